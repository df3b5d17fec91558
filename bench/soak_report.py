"""The soak's memory readings and its report: RSS per process session, growth fitted over
the run after a warm-up, the per-period table and the verdict."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.asgi_servers import session_pids

KIB_PER_MB = 1024


def session_rss_kib(sid: int) -> tuple[int, list[int]]:
    """VmRSS summed over every live process of a session (`storefront serve` and its
    Granian worker), and their pids: a pid that changes is a worker that was respawned."""
    total, pids = 0, []
    for pid in sorted(session_pids(sid)):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:  # gone between the listing and the read
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if found:  # a zombie has no VmRSS
            total += int(found.group(1))
            pids.append(pid)
    return total, pids


@dataclass(frozen=True)
class Sample:
    seconds: float  # since the load started
    serve_kib: int
    worker_kib: int


def growth_mb_per_min(samples: list[Sample], field: str, after: float) -> dict[str, float]:
    """The slope of a least-squares line through the samples taken after `after` seconds
    (a steady leak shows as a slope; noise and one-off steps weigh less than in a
    first-against-last difference, which is given too)."""
    kept = [sample for sample in samples if sample.seconds >= after]
    if len(kept) < 2:
        return {"fit": 0.0, "first_to_last": 0.0}
    xs = [sample.seconds / 60 for sample in kept]
    ys = [getattr(sample, field) / KIB_PER_MB for sample in kept]
    slope = statistics.linear_regression(xs, ys).slope if len(set(xs)) > 1 else 0.0
    span = xs[-1] - xs[0]
    return {"fit": round(slope, 2), "first_to_last": round((ys[-1] - ys[0]) / span, 2) if span else 0.0}


_LOGGED_ERROR = re.compile(r'"level":\s*"(error|critical)"|Traceback \(most recent call last\)|\[ERROR\]')


def logged_errors(path: Path) -> list[str]:
    """Lines of a process log at error level or starting a traceback."""
    if not path.exists():
        return []
    with path.open(errors="replace") as log:
        return [line.strip()[:300] for line in log if _LOGGED_ERROR.search(line)]


def render(rows: list[dict[str, Any]], period: float, summary: dict[str, Any], meta: dict[str, Any]) -> str:
    unit = "minute" if period == 60 else f"{period:g} s"
    lines = [
        f"Run {meta['finished_at']} on commit `{meta['commit'][:10]}`: {meta['minutes']:g} min at "
        f"{meta['rate']:g} req/s target, {meta['products']:,} products, {meta['buyers']} buyers, "
        f"{meta['sse_clients']} SSE clients, PostgreSQL + Redis, one `storefront serve` (Granian, 1 worker) "
        f"and one `storefront worker`; {meta['cpu_count']} cores shared with other work.",
        "",
        f"| {unit} | requests | req/s | errors | 409 / 429 | p50 ms | p99 ms | SSE connects / events "
        "| skipped ticks | serve RSS MB | worker RSS MB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for number, row in enumerate(rows, 1):
        lines.append(
            f"| {number} | {row['requests']:,} | {row['requests'] / period:,.0f} | {row['errors']} | "
            f"{row['expected_409']} / {row['expected_429']} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
            f"{row['sse_connects']} / {row['sse_events']} | {row['skipped']} | "
            f"{row['serve_rss_mb']:.1f} | {row['worker_rss_mb']:.1f} |"
        )
    serve, worker = summary["serve_growth"], summary["worker_growth"]
    jobs = summary["jobs"]
    lines += [
        "",
        f"**{summary['requests']:,} requests, {summary['errors']} errors** "
        f"({summary['expected_409']} × 409 and {summary['expected_429']} × 429 expected, counted apart), "
        f"p50 {summary['p50_ms']:.1f} ms, **p99 {summary['p99_ms']:.1f} ms**. "
        f"RSS growth after the first {unit} (least-squares fit; first to last in brackets): "
        f"serve **{serve['fit']:+.2f} MB/min** ({serve['first_to_last']:+.2f}), "
        f"worker **{worker['fit']:+.2f} MB/min** ({worker['first_to_last']:+.2f}); "
        f"limit {summary['growth_limit']:g} MB/min. Jobs the run created: {jobs.get('done', 0):,} done, "
        f"{jobs.get('dead', 0)} dead, {jobs.get('due_not_done', 0)} due and not done, the rest (checkout "
        "expiries) not due yet. "
        f"Logged errors: {summary['logged_errors']}. **{summary['verdict']}**.",
        "",
        "Latency by kind, ms (count: p50 / p99): "
        + ", ".join(
            f"{kind} {found['count']:,}: {found['p50_ms']:.0f} / {found['p99_ms']:.0f}"
            for kind, found in summary["by_kind"].items()
        )
        + ".",
    ]
    return "\n".join(lines)
