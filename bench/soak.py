"""`./dev bench soak`: mixed traffic for a bounded time against a real `storefront serve`
and one `storefront worker` on PostgreSQL + Redis, reporting per minute the requests,
errors, p50/p99 and both processes' RSS, then the RSS growth per minute after a warm-up.

Exits non-zero when any request failed (a non-2xx other than 409/429, or a transport
error), a job died, a process logged an error, or RSS grew faster than the limit
(5 MB/min; a smoke run is too short to tell a leak from warm-up, so its limit is loose:
it is there to catch rot in the harness and gross leaks). See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cart_checkout, catalog, soak_load, soak_report, soak_setup
from bench.asgi_servers import PROJECT_ROOT, BenchError, free_port, stop_server, wait_until_healthy
from bench.cart_checkout import percentile
from bench.checkout import HOT_PRODUCTS

RESULTS = PROJECT_ROOT / "bench" / "results"
STARTED = time.monotonic()


@dataclass(frozen=True)
class Options:
    minutes: float
    rate: float
    products: int
    buyers: int
    sse_clients: int
    max_in_flight: int
    period: float  # seconds per row: a minute, or 5 s for the smoke
    growth_limit: float  # MB/min, for the serve session and the worker alike
    fresh: bool
    smoke: bool
    docs: bool
    source: str  # "checkout" or "head": which code the processes run (bench/soak_setup.py)


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="./dev bench soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load runs (default 10)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests started per second (default 200)")
    parser.add_argument("--products", type=int, default=10_000, help="catalog size (default 10,000)")
    parser.add_argument("--buyers", type=int, default=10, help="customer accounts placing orders (default 10)")
    parser.add_argument("--sse-clients", type=int, default=20, help="notification streams held open (default 20)")
    parser.add_argument("--growth-limit", type=float, default=5.0, help="MB/min of RSS growth allowed (default 5)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the benchmark database")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/performance.md")
    parser.add_argument(
        "--source",
        choices=("worktree", "head"),
        default="worktree",
        help="run the checkout's code, or the last commit's",
    )
    parser.add_argument("--smoke", action="store_true", help="15 s of load on a tiny catalog (CI): proves it works")
    args = parser.parse_args(argv)
    if args.smoke:
        # 2,000 products: the catalog smoke's database, so CI seeds it once for both.
        return Options(
            minutes=15 / 60, rate=60, products=2_000, buyers=4, sse_clients=6, max_in_flight=32, period=5,
            growth_limit=120.0, fresh=args.fresh, smoke=True, docs=False, source=args.source,
        )  # fmt: skip
    if args.products < HOT_PRODUCTS or args.buyers < 1 or args.sse_clients > 4 * args.buyers:
        parser.error(f"need --products >= {HOT_PRODUCTS}, --buyers >= 1 and at most 4 SSE clients per buyer")
    # Under MAX_REQUESTS_PER_CLIENT (64): past it the server answers 429 by design.
    return Options(
        minutes=args.minutes, rate=args.rate, products=args.products, buyers=args.buyers,
        sse_clients=args.sse_clients, max_in_flight=48, period=60, growth_limit=args.growth_limit,
        fresh=args.fresh, smoke=False, docs=not args.no_docs, source=args.source,
    )  # fmt: skip


def _phase(what: str) -> None:
    print(f"soak: {what} at {time.monotonic() - STARTED:.0f} s", flush=True)


async def _sample(
    serve: int, worker: int, every: float, into: list[soak_report.Sample], started: float
) -> list[list[int]]:
    """RSS of both sessions every `every` seconds until cancelled; each new set of serve pids seen."""
    seen: list[list[int]] = []
    while True:
        serve_kib, pids = soak_report.session_rss_kib(serve)
        worker_kib, _ = soak_report.session_rss_kib(worker)
        if not seen or pids != seen[-1]:
            seen.append(pids)
        into.append(soak_report.Sample(round(time.monotonic() - started, 1), serve_kib, worker_kib))
        try:
            await asyncio.sleep(every)
        except asyncio.CancelledError:
            return seen


async def _progress(tally: soak_load.Tally, samples: list[soak_report.Sample]) -> None:
    """A line per finished period while the run goes on (the table comes at the end)."""
    for number, measured in enumerate(tally.periods[:-1], 1):
        await asyncio.sleep(tally.started + number * tally.period + 1 - time.monotonic())
        row, rss = measured.row(), samples[-1]
        print(
            f"  {number:>3}  {row['requests']:>6} requests  {row['errors']} errors  p50 {row['p50_ms']:.0f} ms  "
            f"p99 {row['p99_ms']:.0f} ms  skipped {row['skipped']}  serve {rss.serve_kib / 1024:.1f} MB  "
            f"worker {rss.worker_kib / 1024:.1f} MB",
            flush=True,
        )


async def _run(plan: soak_load.Plan, serve: int, worker: int, every: float) -> dict[str, Any]:
    samples: list[soak_report.Sample] = []
    tally = soak_load.Tally(time.monotonic(), plan.period, max(1, round(plan.seconds / plan.period)))
    sampler = asyncio.create_task(_sample(serve, worker, every, samples, tally.started))
    progress = asyncio.create_task(_progress(tally, samples))
    await soak_load.drive(plan, tally)
    progress.cancel()
    sampler.cancel()
    seen = await sampler
    samples.append(
        soak_report.Sample(
            round(time.monotonic() - tally.started, 1),
            soak_report.session_rss_kib(serve)[0],
            soak_report.session_rss_kib(worker)[0],
        )
    )
    return {"tally": tally, "samples": samples, "serve_pids": seen}


def _rows(tally: soak_load.Tally, samples: list[soak_report.Sample], period: float) -> list[dict[str, Any]]:
    rows = []
    for number, measured in enumerate(tally.periods, 1):
        # RSS at the period's end: the last sample taken within it.
        inside = [sample for sample in samples if sample.seconds <= number * period + 0.5] or samples[:1]
        rows.append(
            {
                **measured.row(),
                "serve_rss_mb": round(inside[-1].serve_kib / 1024, 1),
                "worker_rss_mb": round(inside[-1].worker_kib / 1024, 1),
            }
        )
    return rows


def _jobs(database: str, since: str) -> dict[str, int]:
    found = catalog._psql(database, f"SELECT status, count(*) FROM jobs WHERE created_at >= '{since}' GROUP BY 1")
    counts = {line.split("|")[0]: int(line.split("|")[1]) for line in found.splitlines() if line}
    due = catalog._psql(
        database,
        f"SELECT count(*) FROM jobs WHERE created_at >= '{since}' AND status <> 'done' AND status <> 'dead' "
        "AND available_at <= now()",
    )
    return {**counts, "due_not_done": int(due)}


def measure(opts: Options) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="storefront-soak-") as tmp:
        workdir = Path(tmp)
        source = soak_setup.code(opts.source, workdir)
        url, migrate = soak_setup.database(opts.products, opts.fresh)
        database = url.rsplit("/", 1)[1]
        ids = catalog.id_range(url, sqlite=False)
        soak_setup.flush_redis()
        env = soak_setup.env(url, workdir, opts.minutes * 60, migrate)
        port = free_port()
        serve = soak_setup.start("serve", ["serve", "--port", str(port)], env, workdir)
        worker: subprocess.Popen[bytes] | None = None
        try:
            wait_until_healthy(serve, port, workdir / "serve.log")
            _phase("server up")
            # After the server: it has migrated the database by now. The worker's start-up
            # overlaps the buyers' set-up; jobs wait in the queue until it is there.
            worker = soak_setup.start("worker", ["worker"], env, workdir)
            measured = _load(opts, port, serve.pid, worker, database, ids, workdir)
        finally:
            if worker is not None:
                stop_server(worker)
            stop_server(serve)
        measured["source"] = source
        measured["logged_errors"] = soak_report.logged_errors(workdir / "serve.log") + soak_report.logged_errors(
            workdir / "worker.log"
        )
    return measured


def _load(
    opts: Options,
    port: int,
    serve: int,
    worker: subprocess.Popen[bytes],
    database: str,
    ids: tuple[int, int],
    workdir: Path,
) -> dict[str, Any]:
    """The shop and its buyers set up through the API, then the load, then the run's jobs counted."""
    cli = soak_setup.promoter(port, database)
    setup = cart_checkout.prepare(port, catalog._psql, database, ids[0], opts.buyers, cli, {}, Path())
    _phase(f"shop and {opts.buyers} buyers ready")
    soak_setup.wait_for_worker(worker, workdir / "worker.log")
    _phase("worker up")
    plan = soak_load.Plan(
        port=port, rate=opts.rate, seconds=opts.minutes * 60, period=opts.period,
        max_in_flight=opts.max_in_flight, sse_clients=opts.sse_clients,
        sse_hold=(5.0, 10.0) if opts.smoke else (20.0, 90.0), tokens=setup.tokens,
        low=ids[0], high=ids[1], hot_low=setup.low, hot_high=setup.high, categories=soak_setup.categories(port),
    )  # fmt: skip
    since = catalog._psql(database, "SELECT now()")
    _phase(
        f"load for {plan.seconds:.0f} s at {opts.rate:g} req/s with {opts.sse_clients} SSE clients "
        f"(serve pid {serve}, worker pid {worker.pid}) starts"
    )
    measured = asyncio.run(_run(plan, serve, worker.pid, 1.0 if opts.smoke else 5.0))
    # Give the worker a moment to finish the last orders' jobs before counting them.
    time.sleep(2 if opts.smoke else 10)
    measured["jobs"] = _jobs(database, since)
    return measured


def summarise(opts: Options, measured: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    tally: soak_load.Tally = measured["tally"]
    samples: list[soak_report.Sample] = measured["samples"]
    rows = _rows(tally, samples, opts.period)
    latencies = [ms for period in tally.periods for ms in period.latencies_ms]
    warmup = opts.period  # the first period: pools, caches and the allocator settle
    serve = soak_report.growth_mb_per_min(samples, "serve_kib", warmup)
    worker = soak_report.growth_mb_per_min(samples, "worker_kib", warmup)
    errors = sum(row["errors"] for row in rows)
    failures = []
    if errors:
        failures.append(f"{errors} errors")
    if measured["jobs"].get("dead"):
        failures.append(f"{measured['jobs']['dead']} dead jobs")
    if measured["logged_errors"]:
        failures.append(f"{len(measured['logged_errors'])} logged errors")
    # Another set of serve processes mid-run means Granian respawned its worker: a crash.
    if len(measured["serve_pids"]) > 1:
        failures.append(f"serve processes changed: {measured['serve_pids']}")
    for name, growth in (("serve", serve), ("worker", worker)):
        if growth["fit"] > opts.growth_limit:
            failures.append(f"{name} RSS grew {growth['fit']:.2f} MB/min (limit {opts.growth_limit:g})")
    summary = {
        "requests": sum(row["requests"] for row in rows),
        "errors": errors,
        "expected_409": sum(row["expected_409"] for row in rows),
        "expected_429": sum(row["expected_429"] for row in rows),
        "skipped": sum(row["skipped"] for row in rows),
        "sse_connects": sum(row["sse_connects"] for row in rows),
        "sse_events": sum(row["sse_events"] for row in rows),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "serve_growth": serve,
        "worker_growth": worker,
        "growth_limit": opts.growth_limit,
        "jobs": measured["jobs"],
        "logged_errors": len(measured["logged_errors"]),
        "by_kind": tally.by_kind_summary(),
        "first_errors": tally.first_errors,
        "first_logged_errors": measured["logged_errors"][:5],
        "failures": failures,
        "verdict": "FAILED: " + "; ".join(failures) if failures else "passed",
    }
    return rows, summary


def run(argv: list[str]) -> int:
    opts = parse(argv)
    started = time.monotonic()
    try:
        measured = measure(opts)
    except BenchError as exc:
        print(f"bench soak: {exc}", file=sys.stderr)
        return 1
    rows, summary = summarise(opts, measured)
    commit = measured["source"]["commit"]  # what ran: HEAD when the run started (others may commit meanwhile)
    meta = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "source": measured["source"],
        "minutes": opts.minutes,
        "rate": opts.rate,
        "products": opts.products,
        "buyers": opts.buyers,
        "sse_clients": opts.sse_clients,
        "period_seconds": opts.period,
        "max_in_flight": opts.max_in_flight,
        "cpu_count": os.cpu_count(),
        "seconds": round(time.monotonic() - started),
    }
    table = soak_report.render(rows, opts.period, summary, meta)
    print()
    print(table)
    for line in summary["first_errors"] + summary["first_logged_errors"]:
        print(f"  {line}", file=sys.stderr)
    output = RESULTS / ("soak-smoke.json" if opts.smoke else f"soak-{opts.minutes:g}min-{opts.rate:g}rps.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    samples = [[sample.seconds, sample.serve_kib, sample.worker_kib] for sample in measured["samples"]]
    payload = {"meta": meta, "summary": summary, "periods": rows, "rss_samples_s_serve_kib_worker_kib": samples}
    output.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {output}")
    if summary["failures"]:
        print(f"\nbench soak: {summary['verdict']}", file=sys.stderr)
        return 1
    if opts.docs:
        catalog.update_docs(PROJECT_ROOT / "docs" / "performance.md", table, int(opts.minutes), section="soak")
        print("updated docs/performance.md")
    return 0
