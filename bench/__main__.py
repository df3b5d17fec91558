"""`./dev bench [catalog|servers|reports|ai|console|soak] [options]`: the benchmarks (see docs/performance.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.asgi_servers import PROJECT_ROOT, BenchError


def main(argv: list[str]) -> int:  # noqa: PLR0911 - one return per suite
    if "soak" in argv:  # its own options (--minutes, --rate, its own --help); see bench/soak.py
        from bench import soak

        return soak.run([arg for arg in argv if arg != "soak"])
    parser = argparse.ArgumentParser(prog="./dev bench", description=__doc__)
    suites = ["catalog", "servers", "reports", "ai", "console", "soak"]
    parser.add_argument("suite", nargs="?", default="catalog", choices=suites)
    parser.add_argument("--products", type=int, default=100_000, help="PostgreSQL catalog size (default 100,000)")
    parser.add_argument("--orders", type=int, default=1_000_000, help="reports: orders (and products) to seed")
    parser.add_argument("--sqlite-products", type=int, default=100_000, help="SQLite catalog size")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite scenarios")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per scenario")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (the machine has 2 cores)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the benchmark databases")
    parser.add_argument("--smoke", action="store_true", help="tiny and quick: proves the harness works (CI)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="catalog: only scenarios whose name contains TEXT (repeatable; case-insensitive), with the references "
        "they are compared to; `--only checkout` runs the direct checkout and its reference C1 (no worker drain, "
        "no cart checkout); results to catalog-<N>-only.json, docs untouched",
    )
    args, rest = parser.parse_known_args(argv)
    if args.suite == "servers":
        from bench import asgi_servers

        return asgi_servers.main(rest)
    if args.suite == "ai":  # its own options (--calls); see bench/ai_overhead.py
        from bench import ai_overhead

        return ai_overhead.main(rest + (["--smoke"] if args.smoke else []))
    if args.suite == "console":  # its own options; see bench/console_render.py
        from bench import console_render

        return console_render.main([arg for arg in argv if arg != "console"])
    if args.only and args.suite != "catalog":
        parser.error("--only selects catalog scenarios")
    if rest:
        parser.error(f"unknown arguments: {' '.join(rest)}")

    smoke = args.smoke
    results = PROJECT_ROOT / "bench" / "results"
    if args.suite == "reports":
        return _reports(args, results)

    from bench import catalog

    options = catalog.Options(
        products=2_000 if smoke else args.products,
        sqlite_products=2_000 if smoke else args.sqlite_products,
        runs=1 if smoke else args.runs,
        duration=1 if smoke else args.duration,
        warmup=1 if smoke else args.warmup,
        connections=16 if smoke else args.connections,
        threads=args.threads,
        fresh=args.fresh,
        sqlite=not args.no_sqlite,
        # A smoke run, or a partial one, must not overwrite the real figures.
        output=results
        / ("catalog-smoke.json" if smoke else f"catalog-{args.products}{'-only' if args.only else ''}.json"),
        docs=None if smoke or args.only else PROJECT_ROOT / "docs" / "performance.md",
        smoke=smoke,
        only=tuple(args.only),
    )
    try:
        return catalog.run(options)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1


def _reports(args: argparse.Namespace, results: Path) -> int:
    from bench import reports

    size = 2_000 if args.smoke else args.orders
    options = reports.Options(
        orders=size,
        products=size,
        runs=1 if args.smoke else args.runs,
        fresh=args.fresh,
        output=results / ("reports-smoke.json" if args.smoke else f"reports-{size}.json"),
        docs=None if args.smoke else PROJECT_ROOT / "docs" / "performance.md",
    )
    try:
        return reports.run(options)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
