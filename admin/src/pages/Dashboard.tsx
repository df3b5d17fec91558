// The dashboard: revenue and orders per day over a chosen range, orders by status, top
// products, low stock (all from GET /admin/analytics) and the CSV reports. The figures
// are read again when a notification arrives on the live stream.
import { useEffect, useState } from "preact/hooks";
import { client } from "../api";
import { BarChart } from "../components/BarChart";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/Notice";
import { download } from "../download";
import { daysBetween, formatCount, formatMoney, isoDay } from "../format";
import { onNotification } from "../live";
import { type Location, href, navigate } from "../router";
import type { Analytics, OrderStatus, TopProduct } from "../types";

const PRESETS = [7, 30, 90, 365];
const MAX_DAYS = 366; // the API's limit
const STATUSES: [OrderStatus, string][] = [
  ["pending_payment", "Awaiting payment"],
  ["placed", "Placed"],
  ["shipped", "Shipped"],
  ["delivered", "Delivered"],
  ["cancelled", "Cancelled"],
  ["refunded", "Refunded"],
];
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const LIVE_REFRESH_MS = 2000;

let firstRenderMarked = false;

export function Dashboard({ location }: { location: Location }) {
  const queryFrom = location.query.get("from");
  const queryTo = location.query.get("to");
  const to = queryTo && DAY.test(queryTo) ? queryTo : isoDay(0);
  const from = queryFrom && DAY.test(queryFrom) ? queryFrom : isoDay(29);
  const [data, setData] = useState<Analytics | null>(null);
  const [error, setError] = useState<unknown>(null);

  // Bumped by live notifications (an order's low stock, say): the figures are read again.
  const [version, setVersion] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    client
      .get<Analytics>("/admin/analytics", { from, to }, controller.signal)
      .then(setData)
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setError(caught);
      });
    return () => controller.abort();
  }, [from, to, version]);

  useEffect(() => {
    // At most one re-read per few seconds, however many notifications a burst of orders brings.
    let timer: ReturnType<typeof setTimeout> | null = null;
    const stop = onNotification(() => {
      timer ??= setTimeout(() => {
        timer = null;
        setVersion((current) => current + 1);
      }, LIVE_REFRESH_MS);
    });
    return () => {
      stop();
      if (timer !== null) clearTimeout(timer);
    };
  }, []);

  useEffect(() => {
    if (data === null || firstRenderMarked) return;
    firstRenderMarked = true;
    // The frame after the figures are in the DOM: when the browser can paint them.
    requestAnimationFrame(() => {
      performance.mark("storefront:dashboard-rendered");
      performance.measure("storefront:dashboard-first-render", "storefront:app-start", "storefront:dashboard-rendered");
    });
  }, [data]);

  const days = data?.days ?? [];
  const revenue = days.reduce((sum, day) => sum + Number(day.revenue), 0);
  const orders = days.reduce((sum, day) => sum + day.orders, 0);

  return (
    <>
      <div class="page-head">
        <h1>Dashboard</h1>
        <RangeForm from={from} to={to} />
      </div>
      {error !== null && <ErrorNotice error={error} action="Loading the figures failed" />}
      {data === null && error === null && <p role="status">Loading the figures…</p>}
      {data !== null && (
        <div class="grid" aria-busy={data.from !== from || data.to !== to}>
          <Card title="Sales" id="sales">
            <dl class="figures">
              <div>
                <dt>Revenue</dt>
                <dd data-figure="revenue">{formatMoney(revenue)}</dd>
              </div>
              <div>
                <dt>Orders</dt>
                <dd data-figure="orders">{formatCount(orders)}</dd>
              </div>
              <div>
                <dt>Average order</dt>
                <dd data-figure="average">{orders ? formatMoney(revenue / orders) : "–"}</dd>
              </div>
            </dl>
            <div class="charts">
            <BarChart
              id="revenue-chart"
              title="Revenue per day"
              unit="revenue"
              format={formatMoney}
              points={days.map((day) => ({ date: day.date, value: Number(day.revenue), display: formatMoney(day.revenue) }))}
            />
            <BarChart
              id="orders-chart"
              title="Orders per day"
              unit="orders"
              format={formatCount}
              integer
              points={days.map((day) => ({ date: day.date, value: day.orders, display: formatCount(day.orders) }))}
            />
            </div>
          </Card>
          <Card title="Orders by status" id="statuses">
            <dl class="statuses">
              {STATUSES.map(([status, label]) => (
                <div key={status} data-status={status}>
                  <dt>{label}</dt>
                  <dd>{formatCount(data.orders_by_status[status] ?? 0)}</dd>
                </div>
              ))}
            </dl>
          </Card>
          <Card title="Top products by revenue" id="top-revenue">
            <TopTable products={data.top_products.by_revenue} />
          </Card>
          <Card title="Top products by units" id="top-units">
            <TopTable products={data.top_products.by_units} />
          </Card>
          <Card title="Low stock" id="low-stock">
            {data.low_stock.length === 0 ? (
              <p class="muted">Every product is above its low-stock threshold.</p>
            ) : (
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Product</th>
                      <th scope="col" class="num">
                        Stock
                      </th>
                      <th scope="col" class="num">
                        Threshold
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.low_stock.map((item) => (
                      <tr key={item.product_id}>
                        <th scope="row">{item.title}</th>
                        <td class={item.stock === 0 ? "num danger" : "num"}>{formatCount(item.stock)}</td>
                        <td class="num">{formatCount(item.low_stock_threshold)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Card>
          <Card title="Reports" id="reports">
            <Exports from={from} to={to} />
          </Card>
        </div>
      )}
    </>
  );
}

function RangeForm({ from, to }: { from: string; to: string }) {
  const [start, setStart] = useState(from);
  const [end, setEnd] = useState(to);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    setStart(from);
    setEnd(to);
  }, [from, to]);
  const preset = end === isoDay(0) ? PRESETS.find((days) => start === isoDay(days - 1)) : undefined;

  function show(nextFrom: string, nextTo: string) {
    if (!DAY.test(nextFrom) || !DAY.test(nextTo)) return setProblem("Enter both days.");
    if (nextTo < nextFrom) return setProblem("The last day comes before the first.");
    if (daysBetween(nextFrom, nextTo) > MAX_DAYS) return setProblem(`The range is at most ${MAX_DAYS} days.`);
    setProblem(null);
    navigate(href("/", { from: nextFrom, to: nextTo }));
  }

  return (
    <form
      class="range"
      aria-label="Date range"
      onSubmit={(event) => {
        event.preventDefault();
        show(start, end);
      }}
    >
      <div class="field">
        <label for="range-preset">Range</label>
        <select
          id="range-preset"
          value={preset ? String(preset) : ""}
          onChange={(event) => {
            const days = Number(event.currentTarget.value);
            if (days) show(isoDay(days - 1), isoDay(0));
          }}
        >
          {PRESETS.map((days) => (
            <option key={days} value={String(days)}>
              Last {days} days
            </option>
          ))}
          <option value="">Custom</option>
        </select>
      </div>
      <div class="field">
        <label for="range-from">From</label>
        <input id="range-from" type="date" value={start} max={end} onInput={(event) => setStart(event.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="range-to">To</label>
        <input id="range-to" type="date" value={end} min={start} onInput={(event) => setEnd(event.currentTarget.value)} />
      </div>
      <button type="submit">Show</button>
      {problem && (
        <p class="field-error" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}

function TopTable({ products }: { products: TopProduct[] }) {
  if (products.length === 0) return <p class="muted">No sales in this range.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col" class="num">
              Units
            </th>
            <th scope="col" class="num">
              Revenue
            </th>
          </tr>
        </thead>
        <tbody>
          {products.map((product) => (
            <tr key={product.product_id}>
              <th scope="row">{product.title}</th>
              <td class="num">{formatCount(product.units)}</td>
              <td class="num">{formatMoney(product.revenue)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Exports({ from, to }: { from: string; to: string }) {
  const [status, setStatus] = useState("");
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function save(path: string, query: Record<string, string>, name: string) {
    setBusy(true);
    setFailure(null);
    setStatus(`Preparing ${name}…`);
    try {
      setStatus(`Downloaded ${await download(path, query, name)}.`);
    } catch (caught) {
      setStatus("");
      setFailure(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <p class="muted">CSV files, streamed from the server (one row per order line, or one per product).</p>
      <div class="actions">
        <button
          type="button"
          disabled={busy}
          onClick={() => void save("/reports/orders.csv", { from, to }, `orders-${from}-${to}.csv`)}
        >
          Orders CSV ({from} to {to})
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={() => void save("/reports/products.csv", {}, "products.csv")}>
          Products CSV
        </button>
      </div>
      <p role="status" class="muted">
        {status}
      </p>
      {failure !== null && <ErrorNotice error={failure} action="The export failed" />}
    </>
  );
}
