"""Steady, mixed traffic at a fixed rate, every answer recorded; and what followed the orders."""

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
class Tally:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    orders: list[int] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "failed": len(self.failures),
            "orders": len(self.orders),
            "statuses": dict(sorted(self.statuses.items())),
        }


async def _one(client: httpx.AsyncClient, shop: Shop, index: int, tally: Tally) -> None:
    product = random.choice(shop.products)  # noqa: S311 - traffic, not security
    kind = index % 10
    try:
        if kind == 0:
            headers = shop.customers[index % len(shop.customers)] | {"Idempotency-Key": uuid.uuid4().hex}
            body = {"items": [{"product_id": product["id"], "quantity": 1}]}
            response = await client.post("/api/v1/orders", json=body, headers=headers)
            expected = 201
        elif kind in (1, 2):
            response, expected = await client.get("/api/v1/products", params={"limit": 20}), 200
        elif kind == 3:
            response, expected = await client.get("/api/v1/products/search", params={"q": "mug"}), 200
        else:
            response, expected = await client.get(f"/api/v1/products/{product['id']}"), 200
    except httpx.HTTPError as exc:
        tally.requests += 1
        tally.failures.append(f"{type(exc).__name__}: {exc}")
        return
    tally.requests += 1
    tally.statuses[response.status_code] += 1
    if response.status_code != expected:
        tally.failures.append(f"{response.status_code} {response.text[:200]}")
    elif kind == 0:
        tally.orders.append(response.json()["id"])


async def steady_load(client: httpx.AsyncClient, shop: Shop, rate: float, stop: asyncio.Event, tally: Tally) -> None:
    """``rate`` requests per second until ``stop``, then wait for the ones in flight."""
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


async def followups(shop: Shop, orders: list[int], seconds: float = 60) -> dict[str, Any]:
    """Wait until every order has its email and notification (or the time is up); the counts."""
    deadline = time.monotonic() + seconds
    keys = [f"order_placed:{order_id}" for order_id in orders]
    connection = await asyncpg.connect(shop.stack.direct_url)
    try:
        while True:
            rows = await connection.fetch(
                "SELECT dedupe_key, count(*) AS n FROM notifications WHERE dedupe_key = ANY($1) GROUP BY dedupe_key",
                keys,
            )
            notified = {row["dedupe_key"]: row["n"] for row in rows}
            emails = shop.stack.smtp.confirmations()
            done = all(emails.get(order_id, 0) >= 1 for order_id in orders) and len(notified) == len(orders)
            if done or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        jobs = await connection.fetch("SELECT status, count(*) AS n FROM jobs GROUP BY status")
    finally:
        await connection.close()
    return {
        "emails": sum(emails.get(order_id, 0) for order_id in orders),
        "orders_without_email": sum(1 for order_id in orders if emails.get(order_id, 0) == 0),
        "orders_with_duplicate_email": sum(1 for order_id in orders if emails.get(order_id, 0) > 1),
        "notifications": sum(notified.values()),
        "orders_without_notification": len(orders) - len(notified),
        "jobs": {row["status"]: row["n"] for row in jobs},
    }


def report(scenario: str, figures: dict[str, Any]) -> None:
    """Print the figures (pytest -s), and append them to STOREFRONT_SCALEOUT_REPORT when set."""
    line = json.dumps({"scenario": scenario, **figures})
    print(f"\nscale-out {line}")
    target = os.environ.get("STOREFRONT_SCALEOUT_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(line + "\n")
