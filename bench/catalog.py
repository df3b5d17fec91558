"""The catalog benchmark: Storefront against R0, F1 and S on the same data, same run.

Builds (or reuses) a PostgreSQL database of N products with `storefront seed`,
starts every server as a user would, drives each scenario with wrk over
loopback (one scenario at a time, rounds rotated to spread noise), and reports
medians with ratios. See docs/performance.md for how to read the figures.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.asgi_servers import (
    HOST,
    PROJECT_ROOT,
    BenchError,
    free_port,
    parse_wrk,
    session_cpu_seconds,
    stop_server,
    wait_until_healthy,
)

BENCH_SECRET = "bench-secret-" + "b" * 40
POOL = 10
BENCH_REDIS = os.environ.get("STOREFRONT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PG_ADMIN_URL = os.environ.get("STOREFRONT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATA_ROOT = PROJECT_ROOT / "bench" / ".data"
CHECKOUT_FRAGMENT = "checkout"  # `--only checkout`: the direct checkout and its reference C1
CHECKOUT_APP = "checkout: POST /orders"
CHECKOUT_REFERENCE = "C1 checkout: same SQL, one asyncpg transaction"
SELECTIVE_TERM = "ukulele"  # one noun of one category: under 1% of products
COMMON_TERM = "walnut"  # one material of eighteen: about 5.5% of products


@dataclass(frozen=True)
class Options:
    products: int
    sqlite_products: int
    runs: int
    duration: int
    warmup: int
    connections: int
    threads: int
    fresh: bool
    sqlite: bool
    output: Path
    docs: Path | None
    smoke: bool = False  # tiny and quick (CI): the cart checkout scenario then has a few buyers
    only: tuple[str, ...] = ()  # scenario name fragments: a partial run (no checkout)


@dataclass(frozen=True)
class Scenario:
    name: str
    server: str
    path: str  # a path, or "{id}" / "{hot}" templates expanded by a wrk script
    compare_to: tuple[str, ...] = ()  # other scenarios to show ratios against
    note: str = ""
    # A contrast scenario (the tutorial pattern at its worst): timeouts are its result, not a harness failure.
    contrast: bool = False


@dataclass
class Result:
    scenario: str
    rps: float
    p50_ms: float
    p99_ms: float
    server_cpu_percent: float
    runs: list[float]
    errors: int


# --- data -----------------------------------------------------------------------------------


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "storefront", *args], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"storefront {' '.join(args)} failed:\n{done.stderr[-2000:]}")


def _psql(database: str, sql: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(PG_ADMIN_URL).set(database=database)
    done = subprocess.run(
        ["psql", url.render_as_string(hide_password=False), "-Atqc", sql], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


def base_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOREFRONT_")}
    env.update(
        {
            "STOREFRONT_ENV": "production",
            "STOREFRONT_JWT_SECRET": BENCH_SECRET,
            "STOREFRONT_DATABASE_URL": database_url,
            "STOREFRONT_DATA_DIR": str(data_dir),
            # Every server in the run gets 10 connections per pool (the references too),
            # so that together they stay under PostgreSQL's default max_connections of 100.
            "STOREFRONT_DB_POOL_SIZE": str(POOL),
            # wrk is one client address with 64 connections: at the default limit of 64
            # requests in progress per address, a connection's next request can arrive
            # before its previous one's slot is freed, and is answered 429 (measured: half
            # the checkout's answers). The bench measures the work, not that guard.
            "STOREFRONT_MAX_REQUESTS_PER_CLIENT": "1024",
        }
    )
    return env


def prepare_postgres(opts: Options) -> str:
    """A database named after its size, reused by later runs unless --fresh."""
    name = f"storefront_bench_{opts.products}"
    from sqlalchemy.engine import make_url

    url = make_url(PG_ADMIN_URL).set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    exists = _psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"
    if exists and not opts.fresh:
        count = _psql(name, "SELECT count(*) FROM products WHERE archived_at IS NULL")
        if count == str(opts.products):
            print(f"reusing {name} ({count} products)", flush=True)
            data_dir = DATA_ROOT / name
            data_dir.mkdir(parents=True, exist_ok=True)
            _cli(["db", "upgrade"], base_env(url, data_dir), data_dir)  # newer code, newer tables
            return url
    _psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql("postgres", f'CREATE DATABASE "{name}"')
    data_dir = DATA_ROOT / name
    data_dir.mkdir(parents=True, exist_ok=True)
    env = base_env(url, data_dir)
    started = time.monotonic()
    _cli(["db", "upgrade"], env, data_dir)
    _cli(["seed", "--products", str(opts.products), "--seed", "1"], env, data_dir)
    _psql(name, "VACUUM ANALYZE")
    print(f"seeded {opts.products} products on PostgreSQL in {time.monotonic() - started:.0f} s", flush=True)
    return url


def prepare_sqlite(opts: Options) -> str:
    folder = DATA_ROOT / f"sqlite_{opts.sqlite_products}"
    path = folder / "storefront.db"
    marker = folder / "seeded"
    if opts.fresh or not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        env = base_env(f"sqlite:///{path}", folder)
        started = time.monotonic()
        _cli(["seed", "--products", str(opts.sqlite_products), "--seed", "1"], env, folder)
        marker.write_text(str(opts.sqlite_products))
        print(f"seeded {opts.sqlite_products} products on SQLite in {time.monotonic() - started:.0f} s", flush=True)
    return f"sqlite:///{path}"


def deep_cursor(database_url: str, products: int, sqlite: bool) -> tuple[str, int]:
    """A real cursor for the page at 90% depth of the default sort, and that offset."""
    from storefront.core.pagination import CursorCodec

    depth = int(products * 0.9)
    sql = (
        "SELECT created_at, id FROM products WHERE archived_at IS NULL "
        f"ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET {depth}"
    )
    if sqlite:
        import sqlite3

        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as db:
            created, last_id = db.execute(sql).fetchone()
        created_at = datetime.fromisoformat(created).replace(tzinfo=UTC)
    else:
        created, last_id = _psql(database_url.rsplit("/", 1)[1], sql).split("|")
        created_at = datetime.fromisoformat(created)
    cursor = CursorCodec(BENCH_SECRET.encode()).encode("products:-created_at", [str(created_at), int(last_id)])
    return cursor, depth


def id_range(database_url: str, sqlite: bool) -> tuple[int, int]:
    sql = "SELECT min(id), max(id) FROM products"
    if sqlite:
        import sqlite3

        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as db:
            low, high = db.execute(sql).fetchone()
            return int(low), int(high)
    low_s, high_s = _psql(database_url.rsplit("/", 1)[1], sql).split("|")
    return int(low_s), int(high_s)


def quiesce(database: str) -> None:
    """Stop queries a timed-out scenario left running, so the next one starts on an idle database.

    wrk gives up on a request after its timeout, but the server and PostgreSQL keep
    working on it; without this, one slow contrast scenario would slow the next.
    """
    sql = (
        "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND state = 'active' AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + 30
    while _psql("postgres", sql) != "0" and time.monotonic() < deadline:
        time.sleep(0.5)


# --- servers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    name: str
    port: int
    pid: int


def _granian(target: str, port: int) -> list[str]:
    # The references run on the same server as `storefront serve`: R0 is its ceiling.
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", HOST, "--port", str(port),
        "--workers", "1", "--loop", "uvloop", "--no-access-log", "--log-level", "warning", target,
    ]  # fmt: skip


@dataclass(frozen=True)
class ServerSpec:
    target: str | None  # an app factory for granian; None: `storefront serve`
    env: dict[str, str]


@contextlib.contextmanager
def servers(specs: dict[str, ServerSpec], workdir: Path) -> Iterator[dict[str, Server]]:
    """Start every server, yield them by name, stop them all (each holds its pool of connections)."""
    started: dict[str, Server] = {}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for name, spec in specs.items():
            port = free_port()
            if spec.target is None:
                command = [sys.executable, "-m", "storefront", "serve", "--port", str(port)]
            else:
                command = _granian(spec.target, port)
            log_path = workdir / f"{name}.log"
            env = {**spec.env, "PYTHONPATH": str(PROJECT_ROOT)}
            with log_path.open("w") as log:
                proc = subprocess.Popen(
                    command, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            procs.append(proc)
            wait_until_healthy(proc, port, log_path)
            started[name] = Server(name, port, proc.pid)
        yield started
    finally:
        for proc in procs:
            stop_server(proc)


# --- load -----------------------------------------------------------------------------------


def _wrk_script(path: str, low: int, high: int, workdir: Path) -> Path | None:
    """A Lua script spreading requests over product ids, or None for a fixed path."""
    if "{id}" not in path and "{hot}" not in path:
        return None
    top = high if "{id}" in path else min(high, low + 999)
    template = path.replace("{id}", "%d").replace("{hot}", "%d")
    script = workdir / f"ids_{low}_{top}_{abs(hash(path))}.lua"
    script.write_text(
        f'math.randomseed(42)\nrequest = function()\n  return wrk.format(nil, string.format("{template}", '
        f"math.random({low}, {top})))\nend\n"
    )
    return script


def run_wrk(server: Server, path: str, seconds: int, opts: Options, script: Path | None) -> tuple[Any, float]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed: apt-get install wrk")
    url = f"http://{HOST}:{server.port}{'' if script else path}"
    # A 5 s timeout: a request slower than that is counted as a timeout, not a result.
    argv = [wrk, f"-t{opts.threads}", f"-c{opts.connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script:
        argv += ["-s", str(script)]
    cpu_before, wall_before = session_cpu_seconds(server.pid), time.monotonic()
    done = subprocess.run([*argv, url], capture_output=True, text=True, timeout=seconds + 60, check=False)
    cpu = session_cpu_seconds(server.pid) - cpu_before
    if done.returncode != 0:
        raise BenchError(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(done.stdout), 100 * cpu / (time.monotonic() - wall_before)


# --- scenarios ------------------------------------------------------------------------------


def scenarios(deep: str, depth: int, sqlite_deep: str | None) -> list[Scenario]:
    api = "/api/v1/products"
    found = [
        Scenario("R0 hello (server ceiling)", "r0", "/"),
        Scenario("app /health/live", "app", "/health/live", ("R0 hello (server ceiling)",)),
        Scenario("F1 product by id", "f1", "/products/{id}"),
        Scenario("S product by id", "s", "/products/{id}"),
        Scenario(
            "app product by id, cache off",
            "app_nocache",
            api + "/{id}",
            ("F1 product by id", "S product by id"),
            "random ids over the whole catalog",
        ),
        Scenario(
            "app product by id, cache hit",
            "app",
            api + "/{hot}",
            ("app /health/live", "F1 product by id"),
            "1,000 hot ids, warmed",
        ),
        Scenario("F1 listing first page", "f1", "/products?limit=20"),
        Scenario("app listing first page, cache off", "app_nocache", api + "?limit=20", ("F1 listing first page",)),
        Scenario("app listing first page, cached", "app", api + "?limit=20", ("app listing first page, cache off",)),
        Scenario(
            "app listing cursor page at 90% depth",
            "app_nocache",
            f"{api}?limit=20&cursor={deep}",
            ("app listing first page, cache off", "S OFFSET page at 90% depth"),
        ),
        Scenario("S OFFSET page at 90% depth", "s", f"/products?skip={depth}&limit=20", contrast=True),
        Scenario(
            "app search selective term, cache off",
            "app_nocache",
            f"{api}/search?q={SELECTIVE_TERM}",
            ("S ILIKE selective term",),
        ),
        Scenario(
            "app search selective term, cached",
            "app",
            f"{api}/search?q={SELECTIVE_TERM}",
            ("S ILIKE selective term",),
        ),
        Scenario("S ILIKE selective term", "s", f"/products/search?q={SELECTIVE_TERM}", contrast=True),
        Scenario(
            "app search common term (5%), cache off",
            "app_nocache",
            f"{api}/search?q={COMMON_TERM}",
            ("S ILIKE common term",),
        ),
        Scenario(
            "app search common term (5%), cached", "app", f"{api}/search?q={COMMON_TERM}", ("S ILIKE common term",)
        ),
        Scenario("S ILIKE common term", "s", f"/products/search?q={COMMON_TERM}", contrast=True),
    ]
    if sqlite_deep is not None:
        found += [
            Scenario("SQLite product by id, cache off", "sqlite_nocache", api + "/{id}"),
            Scenario("SQLite product by id, cache hit", "sqlite", api + "/{hot}"),
            Scenario("SQLite listing first page, cache off", "sqlite_nocache", api + "?limit=20"),
            Scenario(
                "SQLite listing cursor page at 90% depth", "sqlite_nocache", f"{api}?limit=20&cursor={sqlite_deep}"
            ),
            Scenario("SQLite search selective term, cache off", "sqlite_nocache", f"{api}/search?q={SELECTIVE_TERM}"),
            Scenario("SQLite search common term, cache off", "sqlite_nocache", f"{api}/search?q={COMMON_TERM}"),
        ]
    return found


def selected(plan: list[Scenario], only: tuple[str, ...]) -> list[Scenario]:
    """The scenarios named by ``--only`` fragments, with those they are compared to, in plan order."""
    if not only:
        return plan
    wanted = {s.name for s in plan if any(fragment.lower() in s.name.lower() for fragment in only)}
    if not wanted:
        raise BenchError(f"no scenario matches {', '.join(only)}: {', '.join(s.name for s in plan)}")
    wanted |= {other for s in plan if s.name in wanted for other in s.compare_to}
    return [s for s in plan if s.name in wanted]


def measure(opts: Options) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed: apt-get install wrk")
    pg_url = prepare_postgres(opts)
    sqlite_url = prepare_sqlite(opts) if opts.sqlite else None
    deep, depth = deep_cursor(pg_url, opts.products, sqlite=False)
    pg_database = pg_url.rsplit("/", 1)[1]
    sqlite_deep = deep_cursor(sqlite_url, opts.sqlite_products, sqlite=True)[0] if sqlite_url else None
    ranges = {"pg": id_range(pg_url, sqlite=False)}
    if sqlite_url:
        ranges["sqlite"] = id_range(sqlite_url, sqlite=True)

    with tempfile.TemporaryDirectory(prefix="storefront-bench-") as tmp:
        workdir = Path(tmp)
        pg_env = base_env(pg_url, workdir / "pg")
        specs = {
            "r0": ServerSpec("bench.reference:r0", pg_env),
            "f1": ServerSpec("bench.reference:f1", pg_env),
            "s": ServerSpec("bench.reference:s", pg_env),
            "app": ServerSpec(None, pg_env),
            "app_nocache": ServerSpec(None, {**pg_env, "STOREFRONT_CACHE_ENABLED": "false"}),
            # Checkout as deployed: Redis as broker, jobs left for a worker.
            "app_redis": ServerSpec(None, {**pg_env, "STOREFRONT_REDIS_URL": BENCH_REDIS}),
            # C1 hands its jobs to the same stream, as the app does: the worker drains both.
            "c1": ServerSpec("bench.reference:checkout", {**pg_env, "STOREFRONT_REDIS_URL": BENCH_REDIS}),
        }
        _flush_redis()
        if sqlite_url:
            sqlite_env = base_env(sqlite_url, workdir / "sqlite")
            specs["sqlite"] = ServerSpec(None, sqlite_env)
            specs["sqlite_nocache"] = ServerSpec(None, {**sqlite_env, "STOREFRONT_CACHE_ENABLED": "false"})
        # `--only checkout` names the checkout (and its reference C1), which is no wrk scenario of the plan.
        fragments = tuple(fragment for fragment in opts.only if fragment.lower() != CHECKOUT_FRAGMENT)
        checkout = not opts.only or len(fragments) < len(opts.only)
        plan = selected(scenarios(deep, depth, sqlite_deep), fragments) if fragments or not opts.only else []
        # Two phases, each with only its own servers up: every server holds its pools of
        # PostgreSQL connections, and all of them at once plus the drain's worker passed
        # max_connections (100 by default) in CI: "too many clients already".
        checkout_specs = {name: specs[name] for name in ("app_redis", "c1")} if checkout else {}
        needed = {scenario.server for scenario in plan}
        specs = {name: spec for name, spec in specs.items() if name in needed}
        runs: dict[str, list[tuple[Any, float]]] = {scenario.name: [] for scenario in plan}
        with servers(specs, workdir) as running:
            scripts = {
                scenario.name: _wrk_script(
                    scenario.path, *ranges["sqlite" if scenario.server.startswith("sqlite") else "pg"], workdir
                )
                for scenario in plan
            }
            for scenario in plan:  # warm caches, connection pools and the database's buffers
                if opts.warmup:
                    run_wrk(running[scenario.server], scenario.path, opts.warmup, opts, scripts[scenario.name])
                    quiesce(pg_database)
            for round_no in range(opts.runs if plan else 0):
                # Rotate the order each round so slow drifts of the machine spread over all scenarios.
                shift = round_no % len(plan)
                for scenario in plan[shift:] + plan[:shift]:
                    result, cpu = run_wrk(
                        running[scenario.server], scenario.path, opts.duration, opts, scripts[scenario.name]
                    )
                    runs[scenario.name].append((result, cpu))
                    quiesce(pg_database)
                    errors = result.non_2xx + sum(result.socket_errors.values())
                    print(
                        f"  round {round_no + 1}  {scenario.name:<42} {result.requests_per_sec:>9.0f} rps  "
                        f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  cpu {cpu:5.1f}%"
                        + (f"  ERRORS {errors}" if errors else ""),
                        flush=True,
                    )
        checkout_result = cart_result = None
        if checkout:
            with servers(checkout_specs, workdir) as running:
                checkout_result = measure_checkout(
                    opts,
                    running["app_redis"],
                    running["c1"],
                    pg_url,
                    workdir,
                    {**pg_env, "STOREFRONT_REDIS_URL": BENCH_REDIS},
                    partial=bool(opts.only),
                )
                if not opts.only:
                    # On the same server, right after: the direct orders/s just measured are its baseline.
                    cart_result = measure_cart_checkout(
                        opts, running["app_redis"], pg_url, workdir, pg_env, checkout_result["orders_per_second"]
                    )
    results = [
        Result(
            scenario=name,
            rps=round(statistics.median(r.requests_per_sec for r, _ in measured), 1),
            p50_ms=round(statistics.median(r.p50_ms for r, _ in measured), 2),
            p99_ms=round(statistics.median(r.p99_ms for r, _ in measured), 2),
            server_cpu_percent=round(statistics.median(cpu for _, cpu in measured), 1),
            runs=[round(r.requests_per_sec, 1) for r, _ in measured],
            errors=sum(r.non_2xx + sum(r.socket_errors.values()) for r, _ in measured),
        )
        for name, measured in runs.items()
    ]
    return {"plan": plan, "results": results, "checkout": checkout_result, "cart_checkout": cart_result}


def _flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(BENCH_REDIS)
    try:
        client.flushdb()
    finally:
        client.close()


def measure_checkout(
    opts: Options,
    server: Server,
    reference: Server,
    pg_url: str,
    workdir: Path,
    env: dict[str, str],
    *,
    partial: bool = False,
) -> dict[str, Any]:
    """Direct orders through Storefront and through C1 (the same SQL in one asyncpg transaction),
    alternating each round, on the same buyer, token and hot products; then the oversell check over
    both, and (unless ``partial``) how fast one worker delivers the jobs they left."""
    from bench import checkout

    database = pg_url.rsplit("/", 1)[1]
    low, _ = id_range(pg_url, sqlite=False)
    # Jobs that earlier runs left pending (a partial run starts no worker) have no message
    # in the stream any more (flushed at the start): only the sweep would hand them out,
    # 200 per interval, and the worker's rate below would be the sweep's. This run's only.
    _psql(database, "DELETE FROM jobs WHERE status IN ('pending', 'running')")
    setup = checkout.prepare(server.port, _psql, database, low)
    script = checkout.wrk_script(setup, workdir)
    path = "/api/v1/orders"
    targets = {CHECKOUT_APP: server, CHECKOUT_REFERENCE: reference}
    if opts.warmup:
        for target in targets.values():
            run_wrk(target, path, opts.warmup, opts, script)
    runs: dict[str, list[tuple[Any, float, int]]] = {name: [] for name in targets}
    for round_no in range(opts.runs):
        # Alternate which goes first, so a drift of the shared machine hits both alike.
        order = list(targets.items()) if round_no % 2 == 0 else list(reversed(targets.items()))
        for name, target in order:
            result, cpu = run_wrk(target, path, opts.duration, opts, script)
            errors = result.non_2xx + sum(result.socket_errors.values())
            runs[name].append((result, cpu, errors))
            print(
                f"  round {round_no + 1}  {name:<42} {result.requests_per_sec:>9.0f} rps  "
                f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  cpu {cpu:5.1f}%"
                + (f"  ERRORS {errors}" if errors else ""),
                flush=True,
            )
    oversell = checkout.check_no_oversell(setup, _psql, database)
    drain = None
    if not partial:
        drain = checkout.drain_rate(env, _psql, database, workdir, timeout=max(60.0, opts.duration * 30))
    print(f"  oversell check: {oversell}; one worker: {drain}", flush=True)

    def summary(name: str) -> dict[str, Any]:
        measured = runs[name]
        return {
            "orders_per_second": round(statistics.median(r.requests_per_sec for r, _, _ in measured), 1),
            "p50_ms": round(statistics.median(r.p50_ms for r, _, _ in measured), 2),
            "p99_ms": round(statistics.median(r.p99_ms for r, _, _ in measured), 2),
            "server_cpu_percent": round(statistics.median(cpu for _, cpu, _ in measured), 1),
            "runs": [round(r.requests_per_sec, 1) for r, _, _ in measured],
            "errors": sum(errors for _, _, errors in measured),
        }

    app, ref = summary(CHECKOUT_APP), summary(CHECKOUT_REFERENCE)
    ratio = round(app["orders_per_second"] / ref["orders_per_second"], 2) if ref["orders_per_second"] else None
    print(f"  checkout: {app['orders_per_second']:,.1f} orders/s = {ratio}x C1 ({ref['orders_per_second']:,.1f})")
    return {
        **app,
        "errors": app["errors"] + ref["errors"],
        "reference": ref,
        "ratio_to_reference": ratio,
        "oversell_check": oversell,
        "worker_drain": drain,
    }


def measure_cart_checkout(
    opts: Options, server: Server, pg_url: str, workdir: Path, env: dict[str, str], direct_rate: float
) -> dict[str, Any]:
    """Buyers each putting an item in their cart and checking it out (bench/cart_checkout.py)."""
    from bench import cart_checkout

    database = pg_url.rsplit("/", 1)[1]
    low, _ = id_range(pg_url, sqlite=False)
    buyers = cart_checkout.buyers_for(opts.connections, opts.smoke)
    setup = cart_checkout.prepare(server.port, _psql, database, low, buyers, _cli, env, workdir)
    label = "cart checkout: PUT item + POST checkout"
    warm = [cart_checkout.measure(server.port, setup, opts.warmup)] if opts.warmup else []
    runs = []
    for round_no in range(opts.runs):
        result = cart_checkout.measure(server.port, setup, opts.duration)
        runs.append(result)
        print(
            f"  round {round_no + 1}  {label:<42} {result['checkouts_per_second']:>9.1f} /s   "
            f"p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  "
            f"flow {result['flow_requests_per_second']:.1f} req/s"
            + (f"  ERRORS {result['errors']}: {result['first_errors']}" if result["errors"] else ""),
            flush=True,
        )
    errors = sum(run["errors"] for run in warm + runs)  # warm-up included: any failed request is a finding
    answered = None if errors else sum(run["checkouts"] for run in warm + runs)
    check = cart_checkout.check_consistency(setup, _psql, database, answered)
    rate = statistics.median(run["checkouts_per_second"] for run in runs)
    print(f"  cart checkout check: {check}", flush=True)
    return {
        "buyers": buyers,
        "checkouts_per_second": round(rate, 1),
        "p50_ms": round(statistics.median(run["p50_ms"] for run in runs), 2),
        "p99_ms": round(statistics.median(run["p99_ms"] for run in runs), 2),
        "flow_requests_per_second": round(statistics.median(run["flow_requests_per_second"] for run in runs), 1),
        "flow_p50_ms": round(statistics.median(run["flow_p50_ms"] for run in runs), 2),
        "runs": [run["checkouts_per_second"] for run in runs],
        "errors": errors,
        "out_of_stock": sum(run["out_of_stock"] for run in warm + runs),
        "first_errors": next((run["first_errors"] for run in warm + runs if run["first_errors"]), []),
        "direct_orders_per_second": direct_rate,
        "ratio_to_direct_orders": round(rate / direct_rate, 2) if direct_rate else None,
        "consistency_check": check,
    }


def ratio_rows(plan: list[Scenario], results: list[Result]) -> list[tuple[Scenario, Result, dict[str, float]]]:
    by_name = {result.scenario: result for result in results}
    rows = []
    for scenario in plan:
        result = by_name[scenario.name]
        ceiling = by_name.get("R0 hello (server ceiling)")
        ratios = {"R0": round(result.rps / ceiling.rps, 3)} if ceiling and ceiling.rps else {}
        for other in scenario.compare_to:
            if other in by_name and by_name[other].rps:
                ratios[other] = round(result.rps / by_name[other].rps, 2)
        rows.append((scenario, result, ratios))
    return rows


def render(rows: list[tuple[Scenario, Result, dict[str, float]]], meta: dict[str, Any]) -> str:
    lines = [
        f"Run {meta['finished_at']} on commit `{meta['commit'][:10]}`: {meta['products']:,} products on PostgreSQL"
        + (f", {meta['sqlite_products']:,} on SQLite" if meta.get("sqlite_products") else "")
        + f"; wrk -t{meta['threads']} -c{meta['connections']}, {meta['runs']} runs of {meta['duration']} s, medians.",
        "",
        "| scenario | req/s | p50 ms | p99 ms | server CPU % | × R0 | other ratios |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for scenario, result, ratios in rows:
        others = ", ".join(f"{value:g}× {name}" for name, value in ratios.items() if name != "R0")
        flag = (
            (f" ({result.errors} timeouts)" if scenario.contrast else f" ({result.errors} errors)")
            if result.errors
            else ""
        )
        ceiling = f"{ratios['R0']:.2f}" if "R0" in ratios else ""  # a partial run may leave R0 out
        lines.append(
            f"| {scenario.name}{flag} | {result.rps:,.0f} | {result.p50_ms:.2f} | {result.p99_ms:.2f} | "
            f"{result.server_cpu_percent:.0f} | {ceiling} | {others} |"
        )
    return "\n".join(lines)


def render_checkout(result: dict[str, Any]) -> str:
    drain = result["worker_drain"]
    check = result["oversell_check"]
    ref = result["reference"]
    return (
        "\n\nCheckout (`POST /api/v1/orders`, a fresh `Idempotency-Key` per request, random products among "
        f"1,000, Redis as broker): **{result['orders_per_second']:,.0f} orders/s**, p50 {result['p50_ms']:.2f} ms, "
        f"p99 {result['p99_ms']:.2f} ms, server CPU {result['server_cpu_percent']:.0f}%; "
        f"**{result['ratio_to_reference']:g}×** C1 (the same SQL in one asyncpg transaction, same run): "
        f"{ref['orders_per_second']:,.0f} orders/s, p99 {ref['p99_ms']:.2f} ms. "
        f"Oversell check: {check['units_ordered']:,} units ordered, {check['stock_taken']:,} taken from stock, "
        f"{check['negative_stock_rows']} rows below zero."
        + (
            f" One `storefront worker` then delivered {drain['delivered']:,.0f} jobs in {drain['seconds']} s "
            f"from the moment it was ready (**{drain['jobs_per_second']:,.0f} jobs/s**, {drain['dead']:.0f} dead; "
            f"its start-up, {drain['startup_seconds']} s, not counted)."
            if drain is not None  # a partial run (`--only checkout`) leaves the worker out
            else ""
        )
    )


def render_cart_checkout(cart: dict[str, Any]) -> str:
    check = cart["consistency_check"]
    ratio = cart["ratio_to_direct_orders"]
    return (
        f"\n\nCart checkout ({cart['buyers']} buyers at once, each looping `PUT /api/v1/cart/items/{{id}}` then "
        "`POST /api/v1/cart/checkout` with a fresh `Idempotency-Key`, shipping and tax set, same server): "
        f"**{cart['checkouts_per_second']:,.1f} checkouts/s**"
        + (f", **{ratio:g}×** the direct orders/s above" if ratio is not None else "")
        + " (the client here is Python, not wrk, and shares the cores: the ratio is conservative); "
        f"checkout p50 {cart['p50_ms']:.2f} ms, p99 {cart['p99_ms']:.2f} ms; whole flow "
        f"{cart['flow_requests_per_second']:,.1f} requests/s, p50 {cart['flow_p50_ms']:.2f} ms per item + checkout. "
        f"Consistency: {check['orders']:,} orders awaiting payment, totals adding up; "
        f"{check['units_ordered']:,} units in them, {check['stock_taken']:,} taken from stock, "
        f"{check['negative_stock_rows']} rows below zero."
    )


def update_docs(path: Path, table: str, size: int, section: str = "catalog") -> None:
    # One section per suite and size, so the default and the large runs all stay on record.
    begin, end = f"<!-- bench:{section}:{size}:begin -->", f"<!-- bench:{section}:{size}:end -->"
    text = path.read_text() if path.exists() else f"# Performance\n\n{begin}\n{end}\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    head, _, rest = text.partition(begin)
    _, _, tail_text = rest.partition(end)
    path.write_text(f"{head}{begin}\n{table}\n{end}{tail_text}")


def run(opts: Options) -> int:
    started = time.monotonic()
    measured = measure(opts)
    rows = ratio_rows(measured["plan"], measured["results"])
    commit = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    meta = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit.stdout.strip(),
        "products": opts.products,
        "sqlite_products": opts.sqlite_products if opts.sqlite else None,
        "threads": opts.threads,
        "connections": opts.connections,
        "runs": opts.runs,
        "duration": opts.duration,
        "cpu_count": os.cpu_count(),
        "seconds": round(time.monotonic() - started),
    }
    table = render(rows, meta)
    if measured["checkout"] is not None:
        table += render_checkout(measured["checkout"])
    if measured["cart_checkout"] is not None:
        table += render_cart_checkout(measured["cart_checkout"])
    print()
    print(table)
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "meta": meta,
        "checkout": measured["checkout"],
        "cart_checkout": measured["cart_checkout"],
        "scenarios": [
            {
                **asdict(result),
                "server": scenario.server,
                "path": scenario.path,
                "ratios": ratios,
                "note": scenario.note,
            }
            for scenario, result, ratios in rows
        ],
    }
    opts.output.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {opts.output}")
    failed = [result.scenario for scenario, result, _ in rows if result.errors and not scenario.contrast]
    if measured["checkout"] and measured["checkout"]["errors"]:
        failed.append("checkout")
    if measured["cart_checkout"] and measured["cart_checkout"]["errors"]:
        failed.append("cart checkout")
    if failed:
        # Errors mean a scenario measured something other than what it claims: no figures from this run.
        print(f"\nbench: errors in {', '.join(failed)}; see the server logs. docs not updated.", file=sys.stderr)
        return 1
    if opts.docs is not None:
        update_docs(opts.docs, f"### {opts.products:,} products\n\n{table}", opts.products)
        print(f"updated {opts.docs}")
    return 0
