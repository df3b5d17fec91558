"""What the soak runs against: the catalog database, the app's code, `storefront serve`
and `storefront worker` in sessions of their own, the shop and its buyers.

Every `python -m storefront` costs seconds of imports on a busy 2-core machine, so the
set-up starts as few as it can: on a reused database the server migrates it itself
(``AUTO_MIGRATE``) instead of a `db upgrade` first, and the bench admin is promoted with
one SQL statement instead of a `create-admin` process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
from pathlib import Path
from typing import Any

import redis

from bench import catalog
from bench.asgi_servers import PROJECT_ROOT, BenchError, snapshot_source, tail
from bench.cart_checkout import Cli
from bench.checkout import request_json

# The soak's own Redis database (others on this machine belong to tests and other benches).
SOAK_REDIS = os.environ.get("STOREFRONT_SOAK_REDIS_URL", "redis://127.0.0.1:6379/9")


def code(source: str, workdir: Path) -> dict[str, str]:
    """`head`: the last commit's src/, put first on every child's PYTHONPATH, so edits made
    in a shared checkout while the soak runs cannot change what it measures.
    `checkout`: the code as it is (what CI wants, and one process start less)."""
    if source == "head":
        found = snapshot_source("head", workdir)
        os.environ["PYTHONPATH"] = str(workdir / "src")  # catalog.base_env passes it on
        return found
    commit = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return {"source": "checkout", "commit": commit.stdout.strip()}


def database(products: int, fresh: bool) -> tuple[str, bool]:
    """The catalog suite's database of that size (CI's catalog smoke leaves the 2,000 one),
    seeded when missing. Returns its URL and whether it still needs migrating."""
    name = f"storefront_bench_{products}"
    exists = catalog._psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"
    if exists and not fresh:
        count = catalog._psql(name, "SELECT count(*) FROM products WHERE archived_at IS NULL")
        if count == str(products):
            print(f"reusing {name} ({count} products)", flush=True)
            from sqlalchemy.engine import make_url

            url = make_url(catalog.PG_ADMIN_URL).set(drivername="postgresql", database=name)
            return url.render_as_string(hide_password=False), True
    shape = catalog.Options(
        products=products, sqlite_products=0, runs=1, duration=1, warmup=0, connections=1, threads=1,
        fresh=fresh, sqlite=False, output=PROJECT_ROOT / "bench" / "results" / "unused.json", docs=None,
    )  # fmt: skip
    return catalog.prepare_postgres(shape), False


def flush_redis() -> None:
    client = redis.Redis.from_url(SOAK_REDIS)
    try:
        client.flushdb()  # a previous run's cache, limits and streams
    finally:
        client.close()


def env(url: str, workdir: Path, seconds: float, migrate: bool) -> dict[str, str]:
    return {
        **catalog.base_env(url, workdir / "data"),
        "STOREFRONT_REDIS_URL": SOAK_REDIS,
        "STOREFRONT_AUTO_MIGRATE": "true" if migrate else "false",
        # The buyers log in once: their access tokens must outlive the run.
        "STOREFRONT_ACCESS_TOKEN_TTL_SECONDS": str(min(86_400, int(seconds) + 1_800)),
        # Nothing to drain at the end: the load has stopped. Stopping at once keeps the smoke short.
        "STOREFRONT_SHUTDOWN_DRAIN_SECONDS": "0",
    }


def start(name: str, args: list[str], environ: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    """`storefront <args>` in a session of its own (its RSS is the session's), logging to NAME.log."""
    with (workdir / f"{name}.log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "storefront", *args], env=environ, cwd=workdir, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def promoter(port: int, database: str) -> Cli:
    """Stands in for `storefront create-admin` where bench/cart_checkout.py calls it: the
    account registered through the API (once), then made an admin in SQL."""

    def create_admin(args: list[str], _env: dict[str, str], _workdir: Path) -> None:
        options = dict(zip(args[1::2], args[2::2], strict=True))
        email, password = options["--email"], options["--password"]
        body = json.dumps({"email": email, "password": password, "name": "Bench admin"}).encode()
        try:
            request_json(port, "POST", "/api/v1/auth/register", body)
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # 409: registered by an earlier run
                raise
        catalog._psql(database, f"UPDATE users SET role = 'admin' WHERE email = '{email}'")

    return create_admin


def categories(port: int) -> list[str]:
    found: list[dict[str, Any]] = request_json(port, "GET", "/api/v1/categories?limit=100")["items"]
    return [category["slug"] for category in found]


def wait_for_worker(proc: subprocess.Popen[bytes], log: Path, timeout: float = 120.0) -> None:
    """Until the worker has logged that it started: its import-time RSS growth is not the soak's."""
    deadline = time.monotonic() + timeout
    while "worker_started" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"storefront worker did not start:\n{tail(log)}")
        time.sleep(0.2)
