// A bar chart drawn as SVG, with its figures also available as a table: screen readers
// get a summary from <title>/<desc> and the full data from the table.
import { formatDay } from "../format";

export interface Point {
  date: string; // YYYY-MM-DD
  value: number;
  display: string;
}

const WIDTH = 800;
const HEIGHT = 260;
const PAD = { top: 12, right: 8, bottom: 28, left: 64 };

/** A round ceiling for the axis: 1, 2, 2.5 or 5 times a power of ten. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((factor) => factor * power >= value) ?? 10;
  return step * power;
}

export function BarChart({
  id,
  title,
  unit,
  points,
  format,
  integer = false,
}: {
  id: string;
  title: string;
  unit: string;
  points: Point[];
  format: (value: number) => string;
  /** Counts: an axis of whole numbers. */
  integer?: boolean;
}) {
  const highest = niceMax(Math.max(0, ...points.map((point) => point.value)));
  const top = integer ? Math.max(4, Math.ceil(highest / 4) * 4) : highest;
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotWidth / Math.max(points.length, 1);
  const barWidth = Math.max(1, slot * 0.72);
  const y = (value: number) => PAD.top + plotHeight - (value / top) * plotHeight;
  const labelEvery = Math.max(1, Math.ceil(points.length / 7));
  const total = points.reduce((sum, point) => sum + point.value, 0);
  const busiest = points.reduce<Point | null>((best, point) => (best === null || point.value > best.value ? point : best), null);
  const first = points[0];
  const last = points[points.length - 1];
  const summary =
    first && last
      ? `${points.length} days from ${formatDay(first.date)} to ${formatDay(last.date)}: ${format(total)} ${unit} in total` +
        (busiest && busiest.value > 0 ? `, highest on ${formatDay(busiest.date)} with ${busiest.display}.` : ".")
      : "No data.";

  return (
    <figure class="chart" id={id}>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-summary`}
        preserveAspectRatio="xMidYMid meet"
      >
        <title id={`${id}-title`}>{title}</title>
        {[0, 0.25, 0.5, 0.75, 1].map((fraction) => (
          <g key={fraction} class="grid">
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(top * fraction)} y2={y(top * fraction)} />
            <text x={PAD.left - 8} y={y(top * fraction) + 4} text-anchor="end">
              {format(top * fraction)}
            </text>
          </g>
        ))}
        {points.map((point, index) => {
          const x = PAD.left + index * slot + (slot - barWidth) / 2;
          return (
            <g key={point.date}>
              <rect
                class="bar"
                x={x}
                y={y(point.value)}
                width={barWidth}
                height={Math.max(0, PAD.top + plotHeight - y(point.value))}
                data-date={point.date}
                data-value={point.value}
              >
                <title>{`${formatDay(point.date)}: ${point.display}`}</title>
              </rect>
              {index % labelEvery === 0 && (
                <text class="axis" x={x + barWidth / 2} y={HEIGHT - 8} text-anchor="middle">
                  {formatDay(point.date)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption id={`${id}-summary`} class="muted">
        {summary}
      </figcaption>
      <details>
        <summary>{title} as a table</summary>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col" class="num">
                  {unit[0]?.toUpperCase() + unit.slice(1)}
                </th>
              </tr>
            </thead>
            <tbody>
              {points.map((point) => (
                <tr key={point.date}>
                  <th scope="row">{point.date}</th>
                  <td class="num">{point.display}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
