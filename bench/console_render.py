"""The admin console's dashboard first render at scale: `./dev bench console`.

On a database of N products and M orders (`storefront seed`; SQLite, or PostgreSQL
with --postgres; reused by later runs unless --fresh), with `storefront serve` running as a user would, Debian's
headless Chromium signs in once, then loads the dashboard `--runs` times per range.
Each load is a full navigation: the session is restored through the refresh token,
then `/users/me`, then `/admin/analytics`, then the figures are drawn. The time is the
page's own mark `storefront:dashboard-rendered` (the first frame after the figures are
in the DOM) from navigation start; the analytics call's share comes from the resource
timing of that request.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.asgi_servers import HOST, BenchError
from bench.catalog import DATA_ROOT, PG_ADMIN_URL, ServerSpec, _cli, _psql, base_env, servers

ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench-admin-password"  # noqa: S105 - the benchmark database's own admin
CHROMIUM = "/usr/bin/chromium"
RANGES = {
    "last 30 days (the default)": "",
    "June 2025 (30 days)": "?from=2025-06-01&to=2025-06-30",
    "2025 (365 days)": "?from=2025-01-01&to=2025-12-31",
}
MARKS = """() => new Promise((resolve) => {
    const read = () => {
        const rendered = performance.getEntriesByName('storefront:dashboard-rendered')[0];
        if (!rendered) return requestAnimationFrame(read);
        const api = performance.getEntriesByType('resource').find((e) => e.name.includes('/admin/analytics'));
        resolve({render: rendered.startTime, analytics: api ? api.duration : null});
    };
    read();
})"""


def _seed(products: int, orders: int, env: dict[str, str], folder: Path) -> None:
    started = time.monotonic()
    _cli(["db", "upgrade"], env, folder)
    _cli(["seed", "--products", str(products), "--users", "10", "--seed", "1"], env, folder)
    _cli(["seed", "--orders", str(orders), "--seed", "1"], env, folder)
    print(f"seeded {products:,} products and {orders:,} orders in {time.monotonic() - started:.0f} s", flush=True)


def prepare(products: int, orders: int, fresh: bool, postgres: bool) -> tuple[str, Path]:
    """A database named after its size, reused by later runs unless --fresh."""
    from sqlalchemy.engine import make_url

    name = f"storefront_bench_console_{products}_{orders}"
    folder = DATA_ROOT / name
    marker = folder / ("seeded-postgres" if postgres else "seeded-sqlite")
    if postgres:
        url = make_url(PG_ADMIN_URL).set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{folder / 'storefront.db'}"
    env = base_env(url, folder)
    if fresh or not marker.exists():
        if postgres:
            folder.mkdir(parents=True, exist_ok=True)
            _psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _psql("postgres", f'CREATE DATABASE "{name}"')
        else:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        _seed(products, orders, env, folder)
        if postgres:
            _psql(name, "VACUUM ANALYZE")
        marker.write_text(f"{products} {orders}")
    _cli(["create-admin", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD], env, folder)
    return url, folder


def measure(base: str, runs: int) -> dict[str, list[dict[str, Any]]]:
    from playwright.sync_api import expect, sync_playwright

    results: dict[str, list[dict[str, Any]]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/admin/")
        page.get_by_label("Email").fill(ADMIN_EMAIL)
        page.get_by_label("Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#statuses")).to_be_visible(timeout=30_000)
        for name, query in RANGES.items():
            results[name] = []
            for _ in range(runs):
                page.goto(f"{base}/admin/{query}")
                expect(page.locator("#statuses")).to_be_visible(timeout=30_000)
                results[name].append(page.evaluate(MARKS))
        browser.close()
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./dev bench console", description=__doc__)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5, help="dashboard loads per range")
    parser.add_argument("--fresh", action="store_true", help="seed the database again")
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL (STOREFRONT_BENCH_DATABASE_URL)")
    parser.add_argument("--smoke", action="store_true", help="tiny and quick: proves the harness works")
    args = parser.parse_args(argv)
    if args.smoke:
        args.products, args.orders, args.runs = 500, 500, 1
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"bench: no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        url, folder = prepare(args.products, args.orders, args.fresh, args.postgres)
        with (
            tempfile.TemporaryDirectory() as workdir,
            servers({"serve": ServerSpec(None, base_env(url, folder))}, Path(workdir)) as running,
        ):
            results = measure(f"http://{HOST}:{running['serve'].port}", args.runs)
    except BenchError as exc:
        print(f"bench: {exc}")
        return 1
    backend = "PostgreSQL" if args.postgres else "SQLite"
    size = f"{args.products:,} products, {args.orders:,} orders"
    print(f"\ndashboard first render, {size}, {backend}, {args.runs} loads:")
    print("| range | first render, median (ms) | worst (ms) | of which /admin/analytics, median (ms) |")
    print("| --- | --- | --- | --- |")
    for name, loads in results.items():
        renders = [load["render"] for load in loads]
        calls = [load["analytics"] for load in loads if load["analytics"] is not None]
        api = f"{statistics.median(calls):.0f}" if calls else "n/a"
        print(f"| {name} | {statistics.median(renders):.0f} | {max(renders):.0f} | {api} |")
    return 0
