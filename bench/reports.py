"""Analytics and CSV reports at scale: `./dev bench reports [--orders N]`.

On a PostgreSQL database of N products and N orders (`storefront seed`), with
`storefront serve` running as a user would:

- analytics latency (sequential requests, median and worst) for a 30-day and a
  365-day range, against the pattern it replaces measured in the same run: load
  the range's orders and lines through the ORM and add them up in Python;
- each CSV export downloaded whole by curl: rows/s, against PostgreSQL's own
  `COPY (same query) TO STDOUT` (the floor: no HTTP, no Python), and the server's
  peak RSS growth during the download (the kernel's high-water mark, reset first).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.asgi_servers import HOST, PROJECT_ROOT, BenchError, session_pids
from bench.catalog import DATA_ROOT, PG_ADMIN_URL, Server, ServerSpec, _cli, _psql, base_env, servers
from bench.checkout import request_json

ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench-admin-password"  # noqa: S105 - the benchmark database's own admin
RANGES = {"30 days": (date(2025, 6, 1), date(2025, 6, 30)), "365 days": (date(2025, 1, 1), date(2025, 12, 31))}
MEMORY_TARGET_MB = 50


@dataclass(frozen=True)
class Options:
    orders: int
    products: int
    runs: int
    fresh: bool
    output: Path
    docs: Path | None


def prepare(opts: Options) -> str:
    """A database named after its size, reused by later runs unless --fresh."""
    from sqlalchemy.engine import make_url

    name = f"storefront_bench_reports_{opts.orders}"
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    data_dir = DATA_ROOT / name
    data_dir.mkdir(parents=True, exist_ok=True)
    env = base_env(url, data_dir)
    exists = _psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"
    if exists and not opts.fresh and _psql(name, "SELECT count(*) FROM orders") == str(opts.orders):
        print(f"reusing {name}", flush=True)
        _cli(["db", "upgrade"], env, data_dir)
        return url
    _psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql("postgres", f'CREATE DATABASE "{name}"')
    started = time.monotonic()
    _cli(["db", "upgrade"], env, data_dir)
    _cli(["seed", "--products", str(opts.products), "--users", "1000", "--seed", "1"], env, data_dir)
    seeded_products = time.monotonic()
    _cli(["seed", "--orders", str(opts.orders), "--seed", "1"], env, data_dir)
    seeded_orders = time.monotonic()
    _psql(name, "VACUUM ANALYZE")
    print(
        f"seeded {opts.products:,} products in {seeded_products - started:.0f} s and "
        f"{opts.orders:,} orders in {seeded_orders - seeded_products:.0f} s",
        flush=True,
    )
    return url


def admin_token(port: int, env: dict[str, str], workdir: Path) -> str:
    _cli(["create-admin", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD], env, workdir)
    login = json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).encode()
    token: str = request_json(port, "POST", "/api/v1/auth/login", login)["access_token"]
    return token


# --- analytics ------------------------------------------------------------------------------


def time_analytics(server: Server, token: str, start: date, end: date, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        path = f"/api/v1/admin/analytics?from={start}&to={end}"
        report = request_json(server.port, "GET", path, token=token, timeout=300)
        timings.append((time.perf_counter() - began) * 1000)
        if len(report["days"]) != (end - start).days + 1:
            raise BenchError("analytics answered the wrong number of days")
    return timings


async def _naive_report(database_url: str, start: date, end: date) -> dict[str, Any]:
    """The pattern the endpoint replaces: every order and line of the range as ORM objects."""
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
    from sqlalchemy.orm import selectinload

    from storefront.orders.models import Order

    engine = create_async_engine(database_url.replace("postgresql://", "postgresql+asyncpg://", 1))
    lower = datetime(start.year, start.month, start.day, tzinfo=UTC)
    upper = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    try:
        async with AsyncSession(engine) as session:
            orders = await session.scalars(
                select(Order)
                .where(Order.created_at >= lower, Order.created_at < upper)
                .options(selectinload(Order.lines))
            )
            days: dict[date, list[Any]] = {}
            units: dict[int, int] = {}
            for order in orders:
                if order.status != "cancelled":
                    days.setdefault(order.created_at.date(), []).append(order.total)
                    for line in order.lines:
                        units[line.product_id] = units.get(line.product_id, 0) + line.quantity
            return {"days": len(days), "products": len(units)}
    finally:
        await engine.dispose()


def time_naive(database_url: str, start: date, end: date, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        asyncio.run(_naive_report(database_url, start, end))
        timings.append((time.perf_counter() - began) * 1000)
    return timings


# --- exports --------------------------------------------------------------------------------

ORDERS_SQL = """SELECT o.id, o.created_at, o.status, u.email, l.product_id, l.title, l.unit_price_cents,
    l.quantity, l.line_total_cents, o.total_cents
    FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN users u ON u.id = o.user_id
    WHERE o.created_at >= '2025-01-01' AND o.created_at < '2026-01-01' ORDER BY o.id, l.id"""
PRODUCTS_SQL = """SELECT p.id, p.slug, p.title, c.slug, p.price_cents, p.stock, p.created_at
    FROM products p JOIN categories c ON c.id = p.category_id WHERE p.archived_at IS NULL ORDER BY p.id"""


def _reset_peak_rss(pids: list[int]) -> None:
    for pid in pids:
        # "5" resets the kernel's peak-RSS mark (VmHWM) for the process (Linux >= 4.0).
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def _rss_kb(pids: list[int], field: str) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                total += int(line.split()[1])
    return total


def download(server: Server, token: str, path: str) -> dict[str, Any]:
    pids = session_pids(server.pid)
    _reset_peak_rss(pids)
    before_kb = _rss_kb(pids, "VmRSS")
    began = time.perf_counter()
    curl = subprocess.Popen(
        ["curl", "-sSf", "-H", f"Authorization: Bearer {token}", f"http://{HOST}:{server.port}{path}"],
        stdout=subprocess.PIPE,
    )
    counted = subprocess.run(["wc", "-l"], stdin=curl.stdout, capture_output=True, text=True, check=True)
    if curl.wait() != 0:
        raise BenchError(f"curl {path} failed with exit code {curl.returncode}")
    seconds = time.perf_counter() - began
    rows = int(counted.stdout.split()[0]) - 1  # the header row
    growth_mb = (_rss_kb(pids, "VmHWM") - before_kb) / 1024
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds), "rss_growth_mb": growth_mb}


def copy_floor(database: str, sql: str) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    url = make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)
    began = time.perf_counter()
    done = subprocess.run(
        ["psql", url, "-Atqc", f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"],
        capture_output=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise BenchError(f"COPY failed: {done.stderr.decode().strip()}")
    rows = done.stdout.count(b"\n")
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}


# --- run ------------------------------------------------------------------------------------


def _summary(timings: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(timings), 1), "max_ms": round(max(timings), 1)}


def measure(opts: Options) -> dict[str, Any]:
    pg_url = prepare(opts)
    database = pg_url.rsplit("/", 1)[1]
    results: dict[str, Any] = {"analytics": {}, "exports": {}}
    with tempfile.TemporaryDirectory(prefix="storefront-bench-") as tmp:
        workdir = Path(tmp)
        env = base_env(pg_url, workdir)
        with servers({"app": ServerSpec(None, env)}, workdir) as running:
            app = running["app"]
            token = admin_token(app.port, env, workdir)
            for label, (start, end) in RANGES.items():
                time_analytics(app, token, start, end, 1)  # warm the pool and the buffers
                ours = _summary(time_analytics(app, token, start, end, opts.runs))
                entry: dict[str, Any] = {"api": ours}
                if label == "30 days":  # the naive pattern over a year would take minutes
                    naive = _summary(time_naive(pg_url, start, end, opts.runs))
                    entry["naive_orm"] = naive
                    entry["speedup"] = round(naive["median_ms"] / ours["median_ms"], 1)
                results["analytics"][label] = entry
                print(f"  analytics {label}: {entry}", flush=True)
            exports = {
                "orders.csv": ("/api/v1/reports/orders.csv?from=2025-01-01&to=2025-12-31", ORDERS_SQL),
                "products.csv": ("/api/v1/reports/products.csv", PRODUCTS_SQL),
            }
            for name, (path, sql) in exports.items():
                runs = [download(app, token, path) for _ in range(opts.runs)]
                # As many COPY runs as downloads (median): one alone swung 3x on the shared machine.
                floors = [copy_floor(database, sql) for _ in range(opts.runs)]
                floor = {"rows": floors[0]["rows"], "rows_per_s": statistics.median(f["rows_per_s"] for f in floors)}
                rate = statistics.median(run["rows_per_s"] for run in runs)
                growth = max(run["rss_growth_mb"] for run in runs)
                if runs[0]["rows"] != floor["rows"]:
                    raise BenchError(f"{name}: {runs[0]['rows']} rows exported, {floor['rows']} expected")
                results["exports"][name] = {
                    "rows": runs[0]["rows"],
                    "rows_per_s": rate,
                    "seconds": statistics.median(run["seconds"] for run in runs),
                    "peak_rss_growth_mb": round(growth, 1),
                    "copy_rows_per_s": floor["rows_per_s"],
                    "ratio_to_copy": round(rate / floor["rows_per_s"], 2),
                }
                print(f"  export {name}: {results['exports'][name]}", flush=True)
    return results


def render(results: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = [
        f"Run {meta['finished_at']} on commit {meta['commit'][:7]}: {meta['orders']:,} orders, "
        f"{meta['products']:,} products, PostgreSQL, `storefront serve` (granian, 1 worker), "
        f"{meta['runs']} runs each, medians.",
        "",
        "| analytics range | API median ms | API max ms | naive ORM median ms | speedup |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, entry in results["analytics"].items():
        naive, speedup = "not run (minutes)", "—"
        if "naive_orm" in entry:
            naive, speedup = f"{entry['naive_orm']['median_ms']:,.0f}", f"{entry['speedup']}×"
        lines.append(
            f"| {label} | {entry['api']['median_ms']:,.0f} | {entry['api']['max_ms']:,.0f} | {naive} | {speedup} |"
        )
    lines += [
        "",
        "| export | rows | rows/s | COPY rows/s | ratio to COPY | peak RSS growth MB (target < 50) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, entry in results["exports"].items():
        lines.append(
            f"| {name} | {entry['rows']:,} | {entry['rows_per_s']:,.0f} | {entry['copy_rows_per_s']:,} | "
            f"{entry['ratio_to_copy']} | {entry['peak_rss_growth_mb']} |"
        )
    return "\n".join(lines) + "\n"


def run(opts: Options) -> int:
    from bench.catalog import update_docs

    started = time.monotonic()
    results = measure(opts)
    head = ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"]
    commit = subprocess.run(head, capture_output=True, text=True, check=False)
    meta = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit.stdout.strip(),
        "orders": opts.orders,
        "products": opts.products,
        "runs": opts.runs,
        "seconds": round(time.monotonic() - started),
    }
    table = render(results, meta)
    print()
    print(table)
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps({"meta": meta, **results}, indent=2) + "\n")
    print(f"wrote {opts.output}")
    over = [name for name, entry in results["exports"].items() if entry["peak_rss_growth_mb"] >= MEMORY_TARGET_MB]
    if over:
        print(f"bench: peak RSS growth over {MEMORY_TARGET_MB} MB in {', '.join(over)}", file=sys.stderr)
    if opts.docs is not None:
        update_docs(opts.docs, f"### Reports: {opts.orders:,} orders\n\n{table}", opts.orders, section="reports")
        print(f"updated {opts.docs}")
    return 1 if over else 0
