"""Steady, mixed traffic at a fixed rate, every answer recorded; what followed the orders;
and the figures each scenario reports."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from tests.scaleout.stack import Shop


@dataclass
class Failure:
    at: float  # time.monotonic() when the answer (or the error) came
    kind: str  # the status code, or the transport error's class
    detail: str


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    orders: list[int] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "failed": len(self.failures),
            "failures_by_kind": dict(Counter(failure.kind for failure in self.failures)),
            "orders": len(self.orders),
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
        }

    def sample(self, count: int = 10) -> list[str]:
        return [f"{failure.kind}: {failure.detail}" for failure in self.failures[:count]]


async def _one(client: httpx.AsyncClient, shop: Shop, index: int, tally: Tally) -> None:
    """One request of the mix: 1 in 10 an order, the rest reads (product, listing, search)."""
    product = random.choice(shop.products)  # noqa: S311 - traffic, not security
    kind = index % 10
    try:
        if kind == 0:
            headers = shop.customers[index % len(shop.customers)] | {"Idempotency-Key": uuid.uuid4().hex}
            quantity = random.randint(1, 2)  # noqa: S311
            body = {"items": [{"product_id": product["id"], "quantity": quantity}]}
            response, expected = await client.post("/api/v1/orders", json=body, headers=headers), 201
        elif kind in (1, 2):
            response, expected = await client.get("/api/v1/products", params={"limit": 20}), 200
        elif kind == 3:
            response, expected = await client.get("/api/v1/products/search", params={"q": "mug"}), 200
        else:
            response, expected = await client.get(f"/api/v1/products/{product['id']}"), 200
    except httpx.HTTPError as exc:
        tally.requests += 1
        tally.failures.append(Failure(time.monotonic(), type(exc).__name__, str(exc)[:200]))
        return
    tally.requests += 1
    tally.statuses[response.status_code] += 1
    if response.status_code != expected:  # no 4xx is expected in this mix either
        detail = f"{response.request.method} {response.request.url.path}: {response.text[:200]}"
        tally.failures.append(Failure(time.monotonic(), str(response.status_code), detail))
    elif kind == 0:
        tally.orders.append(response.json()["id"])


async def steady_load(client: httpx.AsyncClient, shop: Shop, rate: float, stop: asyncio.Event, tally: Tally) -> None:
    """``rate`` requests per second (sent on schedule, whatever the answers take) until
    ``stop``; then wait for the ones in flight."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()
    next_at = loop.time()
    index = 0
    while not stop.is_set():
        task = asyncio.create_task(_one(client, shop, index, tally))
        pending.add(task)
        task.add_done_callback(pending.discard)
        index += 1
        next_at += 1 / rate
        await asyncio.sleep(max(0.0, next_at - loop.time()))
    await asyncio.gather(*pending)


async def settle(shop: Shop, orders: list[int], seconds: float = 60) -> dict[str, Any]:
    """Wait (at most ``seconds``) until every job of these orders is finished and each order
    has its email and its notification; then count what followed them."""
    deadline = time.monotonic() + seconds
    ids = [str(order_id) for order_id in orders]
    connection = await asyncpg.connect(shop.stack.direct_url)
    try:
        while True:
            jobs = {
                row["status"]: row["n"]
                for row in await connection.fetch(
                    "SELECT status, count(*) AS n FROM jobs WHERE payload->>'order_id' = ANY($1::text[])"
                    " GROUP BY status",
                    ids,
                )
            }
            # The order's notification, to the order's own customer.
            notified = {
                row["order_id"]: row["n"]
                for row in await connection.fetch(
                    "SELECT o.id AS order_id, count(*) AS n FROM notifications n"
                    " JOIN orders o ON o.id::text = n.data->>'order_id' AND o.user_id = n.user_id"
                    " WHERE n.kind = 'order_placed' AND o.id = ANY($1::int[]) GROUP BY o.id",
                    orders,
                )
            }
            emails = {order_id: len(times) for order_id, times in shop.stack.smtp.confirmations().items()}
            unfinished = jobs.get("pending", 0) + jobs.get("running", 0)
            complete = all(emails.get(order_id) and notified.get(order_id) for order_id in orders)
            if (complete and not unfinished) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        dead_anywhere = await connection.fetchval("SELECT count(*) FROM jobs WHERE status = 'dead'")
    finally:
        await connection.close()
    return {
        "emails": sum(emails.get(order_id, 0) for order_id in orders),
        "orders_without_email": sum(1 for order_id in orders if not emails.get(order_id)),
        "orders_with_duplicate_email": sum(1 for order_id in orders if emails.get(order_id, 0) > 1),
        "notifications": sum(notified.get(order_id, 0) for order_id in orders),
        "orders_without_notification": sum(1 for order_id in orders if not notified.get(order_id)),
        "orders_with_duplicate_notification": sum(1 for order_id in orders if notified.get(order_id, 0) > 1),
        "jobs": jobs,
        "dead_jobs_in_table": dead_anywhere,
    }


def report(scenario: str, figures: dict[str, Any]) -> None:
    """Print the figures (pytest -s), and append them to STOREFRONT_SCALEOUT_REPORT when set."""
    line = json.dumps({"scenario": scenario, **figures})
    print(f"\nscale-out {line}")
    target = os.environ.get("STOREFRONT_SCALEOUT_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(line + "\n")
