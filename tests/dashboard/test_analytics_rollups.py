"""The analytics report reads roll-ups kept by triggers: after any mix of order changes it
must equal the same figures added up from scratch over the orders and their lines."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storefront.catalog.models import Product
from storefront.orders.models import PAID_STATUSES, Order, OrderLine, OrderStatus
from storefront.orders.seed import seed_orders
from tests.helpers import Api, contended

TOP = 10


async def from_scratch(connection: AsyncConnection, first: date, last: date) -> dict[str, Any]:
    """The report's figures computed in Python from every order and line of the range."""
    lower = datetime(first.year, first.month, first.day, tzinfo=UTC)
    upper = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    orders = (
        await connection.execute(
            select(Order.id, Order.status, Order.total, Order.refunded_total, Order.created_at).where(
                Order.created_at >= lower, Order.created_at < upper
            )
        )
    ).all()
    by_status = {status.value: 0 for status in OrderStatus}
    per_day: dict[str, tuple[int, Decimal]] = {}
    sold: set[int] = set()
    for order_id, status, total, refunded, created_at in orders:
        by_status[status] += 1
        if status in PAID_STATUSES:
            sold.add(order_id)
            day = created_at.astimezone(UTC).date().isoformat()
            count, amount = per_day.get(day, (0, Decimal(0)))
            per_day[day] = (count + 1, amount + total - refunded)
    units: Counter[int] = Counter()
    revenue: defaultdict[int, Decimal] = defaultdict(Decimal)
    lines = await connection.execute(
        select(OrderLine.order_id, OrderLine.product_id, OrderLine.quantity, OrderLine.refunded_quantity,
               OrderLine.unit_price, OrderLine.line_total)
    )  # fmt: skip
    for order_id, product_id, quantity, refunded_quantity, unit_price, line_total in lines:
        if order_id in sold:
            units[product_id] += quantity - refunded_quantity
            revenue[product_id] += line_total - unit_price * refunded_quantity
    titles = dict((await connection.execute(select(Product.id, Product.title))).all())

    def top(key: Any) -> list[dict[str, Any]]:
        ranked = sorted(units, key=lambda product_id: (-key(product_id), product_id))[:TOP]
        return [
            {"product_id": p, "title": titles[p], "units": units[p], "revenue": f"{revenue[p]:.2f}"} for p in ranked
        ]

    days = []
    for offset in range((last - first).days + 1):
        current = (first + timedelta(days=offset)).isoformat()
        count, amount = per_day.get(current, (0, Decimal(0)))
        days.append({"date": current, "orders": count, "revenue": f"{amount:.2f}"})
    return {
        "days": days,
        "orders_by_status": by_status,
        "top_products": {"by_revenue": top(lambda p: revenue[p]), "by_units": top(lambda p: units[p])},
    }


async def report(api: Api, first: date, last: date) -> dict[str, Any]:
    params = {"from": first.isoformat(), "to": last.isoformat()}
    response = await api.client.get("/api/v1/admin/analytics", params=params, headers=await api.admin_headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return {key: body[key] for key in ("days", "orders_by_status", "top_products")}


# Ranges over whole months, across month and year edges, inside one month, a single day.
RANGES = [
    (date(2025, 1, 1), date(2025, 12, 31)),
    (date(2025, 11, 20), date(2026, 2, 7)),
    (date(2025, 12, 1), date(2025, 12, 31)),
    (date(2025, 12, 15), date(2026, 1, 15)),
    (date(2026, 1, 3), date(2026, 1, 29)),
    (date(2025, 12, 31), date(2025, 12, 31)),
    (date(2025, 3, 17), date(2026, 2, 28)),
]


async def test_report_equals_a_scan_after_placements_cancels_refunds_moves_and_seeding(
    api: Api, connection: AsyncConnection
) -> None:
    rng = random.Random(16)  # noqa: S311 - test data
    category = await api.category()
    products = [await api.product(category["slug"], price=f"{n}.{n:02d}", stock=10_000) for n in range(1, 9)]
    buyers = [await api.customer() for _ in range(3)]
    admin = await api.admin_headers()
    # History first: seeded orders (written by COPY/batched inserts) must be rolled up too.
    async with api.state.db.session_scope() as session:
        await seed_orders(session, 300, seed=3, progress=lambda _: None, batch_size=120)
    seeded = list((await connection.scalars(select(Order.id).where(Order.status == OrderStatus.PLACED))).all())
    placed = []
    for _ in range(40):
        items = [(p["id"], rng.randint(1, 3)) for p in rng.sample(products, rng.randint(1, 3))]
        response = await api.order(rng.choice(buyers), *items)
        assert response.status_code == 201, response.text
        placed.append(response.json())
    # Spread the new orders over days around month and year edges (a direct UPDATE: the
    # triggers move their figures too).
    for order in placed:
        moved = datetime(2025, 11, 20, tzinfo=UTC) + timedelta(seconds=rng.randrange(80 * 24 * 3600))
        await connection.execute(update(Order).where(Order.id == order["id"]).values(created_at=moved))
    done: Counter[str] = Counter()
    targets = [(order["id"], order["items"]) for order in placed] + [(order_id, None) for order_id in seeded[:30]]
    for order_id, lines in targets:
        action = rng.choice(["cancel", "ship", "deliver", "refund_amount", "refund_lines", "refund_all", "keep"])
        url = f"/api/v1/orders/{order_id}"
        if action == "cancel":
            response = await api.client.post(f"{url}/cancel", headers=admin)
        elif action in ("ship", "deliver"):
            response = await api.client.post(f"{url}/status", json={"status": "shipped"}, headers=admin)
            if action == "deliver" and response.status_code == 200:
                response = await api.client.post(f"{url}/status", json={"status": "delivered"}, headers=admin)
        elif action == "refund_amount":
            response = await api.client.post(f"{url}/refunds", json={"amount": "0.75"}, headers=admin)
        elif action == "refund_lines" and lines:
            refund = [{"product_id": lines[0]["product_id"], "quantity": 1}]
            response = await api.client.post(f"{url}/refunds", json={"lines": refund}, headers=admin)
        elif action == "refund_all":
            response = await api.client.post(f"{url}/refunds", json={}, headers=admin)
        else:
            continue
        if response.status_code in (200, 201):
            done[action] += 1
        # A refund after a cancel, say, is refused: that must change nothing either.
    assert len(done) >= 5, done  # the mix really happened
    assert await connection.scalar(select(Order.id).where(Order.status == OrderStatus.REFUNDED).limit(1))
    for first, last in RANGES:
        assert await report(api, first, last) == await from_scratch(connection, first, last), (first, last)


async def test_concurrent_placements_on_one_day_lose_no_increment(live: Api, engine: AsyncEngine) -> None:
    products = await contended(live, 100, 100)
    buyers = [await live.customer() for _ in range(4)]
    today = datetime.now(UTC).date()

    async def place(number: int) -> None:
        product = products[number % 2]
        response = await live.order(buyers[number % 4], (product["id"], 1 + number % 3))
        assert response.status_code == 201, response.text

    await asyncio.gather(*(place(number) for number in range(24)))
    async with engine.connect() as connection:
        expected = await from_scratch(connection, today, today)
    assert expected["days"][0]["orders"] >= 24
    assert await report(live, today, today) == expected
