"""Several processes behave as one service: proved with real processes, signals, HAProxy,
PgBouncer, PostgreSQL and Redis on loopback (the stack: tests/scaleout/stack.py).
Each scenario prints its figures (`pytest -s`)."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid

import asyncpg
import httpx
import pytest

from tests.conftest import PG_URL, REDIS_URL
from tests.scaleout.load import Tally, followups, report, steady_load
from tests.scaleout.stack import PASSWORD, Shop, wait_ready

pytestmark = pytest.mark.skipif(
    not (PG_URL and REDIS_URL), reason="needs PostgreSQL and Redis: runs in the PostgreSQL + Redis pass of .ci/run"
)

RATE = 50  # requests per second through the balancer


async def _restart(shop: Shop, index: int) -> float:
    """SIGTERM one API process, wait for its exit, start it again; seconds until it is ready."""
    process = shop.stack.apis[index]
    started = time.monotonic()
    process.signal(signal.SIGTERM)
    status = await asyncio.get_running_loop().run_in_executor(None, process.wait, 30)
    assert status == 0, process.tail()
    process.start()
    assert await wait_ready(shop.stack.api_url(index), 90), process.tail()
    await asyncio.sleep(1.5)  # HAProxy sees it up again (rise 2 x 500 ms) before the next one goes
    return time.monotonic() - started


async def test_a_rolling_restart_under_load_fails_no_request(shop: Shop) -> None:
    tally = Tally()
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=shop.stack.lb, timeout=30) as client:
        load = asyncio.create_task(steady_load(client, shop, RATE, stop, tally))
        await asyncio.sleep(2)
        took = [await _restart(shop, index) for index in range(2)]
        await asyncio.sleep(1)
        stop.set()
        await load
    after = await followups(shop, tally.orders)
    report("rolling_restart", {**tally.figures(), **after, "restart_seconds": [round(t, 1) for t in took]})
    assert tally.failures == [], tally.failures[:10]
    assert tally.orders
    assert after["orders_without_email"] == 0
    assert after["orders_with_duplicate_email"] == 0
    assert after["emails"] == after["notifications"] == len(tally.orders)


async def test_an_api_process_killed_under_load_is_routed_around(shop: Shop) -> None:
    tally = Tally()
    stop = asyncio.Event()
    victim = shop.stack.apis[0]
    async with httpx.AsyncClient(base_url=shop.stack.lb, timeout=30) as client:
        load = asyncio.create_task(steady_load(client, shop, RATE, stop, tally))
        await asyncio.sleep(2)
        victim.crash()  # no drain: the balancer finds out by itself
        killed_at = tally.requests
        await asyncio.sleep(4)
        stop.set()
        await load
    victim.start()
    assert await wait_ready(shop.stack.api_url(0), 90), victim.tail()
    await asyncio.sleep(1.5)
    report("sigkill_one_api", {**tally.figures(), "requests_before_kill": killed_at})
    # Only what was in flight on the killed process, or sent before the next health check, fails.
    assert len(tally.failures) <= RATE, tally.failures
    assert tally.requests - len(tally.failures) >= tally.requests * 0.9


async def test_login_throttling_is_shared_by_the_processes(shop: Shop) -> None:
    email = f"throttled-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(timeout=10) as client:
        registered = await client.post(
            f"{shop.stack.api_url(0)}/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "T"}
        )
        assert registered.status_code == 201
        statuses = []
        for attempt in range(6):  # alternating between the processes; the limit is 4 per account and address
            url = shop.stack.api_url(attempt % 2)
            response = await client.post(f"{url}/api/v1/auth/login", json={"email": email, "password": "wrong guess"})
            statuses.append(response.status_code)
    report("shared_login_throttling", {"statuses": statuses})
    assert statuses == [401, 401, 401, 401, 429, 429]


async def test_a_change_through_one_process_is_served_fresh_by_the_other(shop: Shop) -> None:
    product = shop.products[0]
    first, second = shop.stack.api_url(0), shop.stack.api_url(1)
    async with httpx.AsyncClient(timeout=10) as client:
        before = await client.get(f"{second}/api/v1/products/{product['id']}")  # cached by the second process
        assert before.status_code == 200
        new_price = f"{float(before.json()['price']) + 1:.2f}"
        changed = await client.patch(
            f"{first}/api/v1/products/{product['id']}",
            json={"price": new_price},
            headers=shop.admin | {"If-Match": before.headers["etag"]},
        )
        assert changed.status_code == 200, changed.text
        after = await client.get(f"{second}/api/v1/products/{product['id']}")
    report("cache_invalidation", {"before": before.json()["price"], "after": after.json()["price"]})
    assert after.json()["price"] == new_price
    assert after.headers["etag"] == changed.headers["etag"]


async def test_a_stream_on_one_process_hears_of_an_order_placed_through_the_other(shop: Shop) -> None:
    buyer = shop.customers[0]
    received: list[dict[str, object]] = []
    connected = asyncio.Event()

    async def listen(client: httpx.AsyncClient) -> None:
        url = f"{shop.stack.api_url(0)}/api/v1/notifications/stream"
        async with client.stream("GET", url, headers=buyer) as response:
            event = None
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    connected.set()
                elif line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "notification":
                    received.append(json.loads(line.split(":", 1)[1]))
                    return

    async with httpx.AsyncClient(timeout=30) as client:
        listener = asyncio.create_task(listen(client))
        await asyncio.wait_for(connected.wait(), 10)
        body = {"items": [{"product_id": shop.products[1]["id"], "quantity": 1}]}
        placed = await client.post(f"{shop.stack.api_url(1)}/api/v1/orders", json=body, headers=buyer)
        assert placed.status_code == 201, placed.text
        started = time.monotonic()
        await asyncio.wait_for(listener, 20)
        waited = time.monotonic() - started
    report("sse_across_processes", {"order": placed.json()["id"], "seconds": round(waited, 2)})
    assert received[0]["data"] == {"order_id": placed.json()["id"], "total": placed.json()["total"]}


async def test_two_hundred_orders_with_a_worker_killed_halfway(shop: Shop) -> None:
    orders: list[int] = []
    victim = shop.stack.workers[0]
    async with httpx.AsyncClient(base_url=shop.stack.lb, timeout=30) as client:

        async def place(index: int) -> None:
            headers = shop.customers[index % len(shop.customers)] | {"Idempotency-Key": uuid.uuid4().hex}
            body = {"items": [{"product_id": shop.products[index % 5]["id"], "quantity": 1}]}
            response = await client.post("/api/v1/orders", json=body, headers=headers)
            assert response.status_code == 201, response.text
            orders.append(response.json()["id"])

        for start in range(0, 200, 20):
            await asyncio.gather(*(place(index) for index in range(start, start + 20)))
            if start == 80:
                victim.crash()  # mid-stream: its claimed jobs wait out their 5 s lease
    after = await followups(shop, orders, seconds=90)
    victim.start()
    connection = await asyncpg.connect(shop.stack.direct_url)
    try:
        ours = [str(order_id) for order_id in orders]
        unfinished = await connection.fetchval(
            "SELECT count(*) FROM jobs WHERE status <> 'done' AND payload->>'order_id' = ANY($1::text[])", ours
        )
        emails_run_again = await connection.fetchval(
            "SELECT count(*) FROM jobs WHERE name = 'orders.confirmation_email' AND attempts > 1"
            " AND payload->>'order_id' = ANY($1::text[])",
            ours,
        )
    finally:
        await connection.close()
    report(
        "worker_killed_200_orders",
        {"orders": len(orders), **after, "jobs_not_done": unfinished, "email_jobs_run_again": emails_run_again},
    )
    assert len(orders) == 200
    # Every job done (once: its row is done, none dead, none left), nothing lost.
    assert unfinished == 0
    assert after["jobs"].get("dead", 0) == 0
    assert after["orders_without_email"] == 0
    assert after["notifications"] == 200  # one per order: the notification is written in the database, once
    # An email the killed worker handed to SMTP but had not yet recorded as sent goes out again when
    # its job is re-run (delivery is at least once; the Message-ID is the same, so mail clients fold it).
    # Nothing else may send twice.
    assert after["orders_with_duplicate_email"] <= emails_run_again
