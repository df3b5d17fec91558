"""The checkout scenario: POST /orders with a token and a fresh Idempotency-Key per
request, then how fast one `storefront worker` delivers the jobs the orders left."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.asgi_servers import HOST, BenchError

HOT_PRODUCTS = 1000  # orders spread over this many products: contention without sell-outs


@dataclass(frozen=True)
class CheckoutSetup:
    email: str
    token: str
    low: int
    high: int
    stock_before: int


def request_json(
    port: int, method: str, path: str, body: bytes | None = None, token: str | None = None, timeout: float = 30
) -> Any:
    import json

    request = urllib.request.Request(f"http://{HOST}:{port}{path}", data=body, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
        return json.loads(response.read() or b"null")


def prepare(port: int, psql: Any, database: str, low: int) -> CheckoutSetup:
    """A buyer with a personal API token (it outlives the run) and a well-stocked hot set."""
    import json
    import uuid

    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    password = "bench-password-1"  # noqa: S105 - a throw-away account on the benchmark database
    request_json(
        port,
        "POST",
        "/api/v1/auth/register",
        json.dumps({"email": email, "password": password, "name": "Bench"}).encode(),
    )
    credentials = json.dumps({"email": email, "password": password}).encode()
    login = request_json(port, "POST", "/api/v1/auth/login", credentials)
    created = request_json(
        port, "POST", "/api/v1/auth/api-tokens", json.dumps({"name": "bench"}).encode(), token=login["access_token"]
    )
    high = low + HOT_PRODUCTS - 1
    psql(database, f"UPDATE products SET stock = 1000000, archived_at = NULL WHERE id BETWEEN {low} AND {high}")
    stock = int(psql(database, f"SELECT sum(stock) FROM products WHERE id BETWEEN {low} AND {high}"))
    return CheckoutSetup(email, created["token"], low, high, stock)


def wrk_script(setup: CheckoutSetup, workdir: Path) -> Path:
    script = workdir / "checkout.lua"
    script.write_text(
        f"""
local counter = 0
math.randomseed(os.time())
local prefix = tostring(math.random(1, 1000000000))
request = function()
  counter = counter + 1
  local body = string.format('{{"items":[{{"product_id":%d,"quantity":1}}]}}', math.random({setup.low}, {setup.high}))
  local headers = {{}}
  headers["Authorization"] = "Bearer {setup.token}"
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = prefix .. "-" .. counter
  return wrk.format("POST", "/api/v1/orders", headers, body)
end
"""
    )
    return script


def check_no_oversell(setup: CheckoutSetup, psql: Any, database: str) -> dict[str, int]:
    """Stock taken must equal units ordered, and no stock may be negative.

    One statement, so one snapshot: requests still finishing when wrk stops commit
    their order and its stock change together, on one side of it or the other.
    """
    row = psql(
        database,
        f"""SELECT
            (SELECT sum(stock) FROM products WHERE id BETWEEN {setup.low} AND {setup.high}),
            (SELECT coalesce(sum(l.quantity), 0) FROM order_lines l
                JOIN orders o ON o.id = l.order_id JOIN users u ON u.id = o.user_id
                WHERE u.email = '{setup.email}'),
            (SELECT count(*) FROM products WHERE stock < 0)""",
    )
    stock_after, ordered, negative = (int(value) for value in row.split("|"))
    taken = setup.stock_before - stock_after
    if negative or taken != ordered:
        raise BenchError(f"oversell check failed: taken {taken}, ordered {ordered}, negative stock rows {negative}")
    return {"units_ordered": ordered, "stock_taken": taken, "negative_stock_rows": negative}


def drain_rate(env: dict[str, str], psql: Any, database: str, workdir: Path, timeout: float) -> dict[str, float]:
    """Start one worker and time how long it takes to deliver every pending job, from the
    moment it is ready (its start-up, a few seconds of imports and connections, is reported
    apart: it is no part of the rate)."""
    # Jobs due now: a checkout's order expiry waits CHECKOUT_TTL_MINUTES (a cart checkout run leaves some).
    pending_sql = "SELECT count(*) FROM jobs WHERE status IN ('pending', 'running') AND available_at <= now()"
    backlog = int(psql(database, pending_sql))
    log_path = workdir / "worker.log"
    log = log_path.open("w")
    launched = time.monotonic()
    worker = subprocess.Popen(
        [sys.executable, "-m", "storefront", "worker"], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        while "worker_started" not in log_path.read_text():
            if worker.poll() is not None or time.monotonic() - launched > 60:
                raise BenchError(f"the worker did not start:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        started = time.monotonic()
        left = backlog
        while left > 0 and time.monotonic() - started < timeout:
            time.sleep(0.2)
            left = int(psql(database, pending_sql))
        elapsed = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    done = backlog - left
    dead = int(psql(database, "SELECT count(*) FROM jobs WHERE status = 'dead'"))
    return {
        "backlog": backlog,
        "delivered": done,
        "startup_seconds": round(started - launched, 1),
        "seconds": round(elapsed, 1),
        "jobs_per_second": round(done / elapsed, 1),
        "dead": dead,
    }
