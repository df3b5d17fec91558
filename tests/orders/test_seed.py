"""`storefront seed --orders N`: deterministic order history that analytics and reports can read."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from storefront.catalog.models import Product
from storefront.orders.models import Order, OrderLine, OrderStatus
from storefront.orders.seed import PoolProduct, generate, seed_orders
from tests.helpers import Api, storefront

POOL = [PoolProduct(id=n, title=f"Product {n}", price_cents=100 * n + 25) for n in range(1, 30)]


def test_generation_is_deterministic_and_consistent() -> None:
    first = list(generate(300, seed=7, first_id=11, user_ids=[1, 2, 3], pool=POOL))
    assert first == list(generate(300, seed=7, first_id=11, user_ids=[1, 2, 3], pool=POOL))
    assert first != list(generate(300, seed=8, first_id=11, user_ids=[1, 2, 3], pool=POOL))
    assert [order.id for order in first] == list(range(11, 311))
    assert {order.status for order in first} == {"placed", "shipped", "delivered", "cancelled"}
    for order in first:
        assert 1 <= len(order.lines) <= 4
        assert len({line[0] for line in order.lines}) == len(order.lines)  # a product once per order
        assert order.total_cents == sum(price * quantity for _, _, price, quantity in order.lines)
        assert order.created_at.year == 2025


async def test_seeded_history_is_what_analytics_reports(api: Api) -> None:
    category = await api.category()
    products = [await api.product(category["slug"], price=f"{n}.25", stock=50) for n in range(1, 13)]
    for _ in range(4):
        await api.register()
    advanced: list[int] = []
    async with api.state.db.session_scope() as session:
        # Only this seeding's orders are compared: a test file before this one on the same
        # xdist worker may have committed rows of its own (seen once in CI: a product the
        # seeding then used, not one of the twelve above).
        before = await session.scalar(select(func.max(Order.id))) or 0
        await seed_orders(session, 400, seed=5, progress=advanced.append, batch_size=150)
    assert advanced == [150, 150, 100]

    async with api.state.db.session_scope() as session:
        seeded_orders = Order.id > before
        orders = (
            await session.execute(select(Order.id, Order.status, Order.total, Order.created_at).where(seeded_orders))
        ).all()
        seeded_lines = OrderLine.order_id > before
        lines = (
            await session.execute(
                select(OrderLine.order_id, OrderLine.unit_price, OrderLine.quantity, OrderLine.line_total).where(
                    seeded_lines
                )
            )
        ).all()
        line_prices = (
            await session.execute(select(OrderLine.product_id, OrderLine.unit_price).where(seeded_lines))
        ).all()
        # Prices are the products' own, exactly (not off by the cents conversion on either backend).
        prices = dict((await session.execute(select(Product.id, Product.price))).tuples().all())
    assert len(orders) == 400
    assert {product["id"] for product in products} <= prices.keys()
    assert all(unit_price == prices[product_id] for product_id, unit_price in line_prices)
    line_sums: dict[int, Decimal] = defaultdict(Decimal)
    for order_id, unit_price, quantity, line_total in lines:
        assert line_total == unit_price * quantity
        line_sums[order_id] += line_total
    assert all(total == line_sums[order_id] for order_id, _, total, _ in orders)

    # The same figures computed here in Python and by the analytics SQL.
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    count: Counter[str] = Counter()
    for _, status, total, created_at in orders:
        if status != "cancelled":
            revenue[created_at.date().isoformat()] += total
            count[created_at.date().isoformat()] += 1
    response = await api.client.get(
        "/api/v1/admin/analytics", params={"from": "2025-01-01", "to": "2025-12-31"}, headers=await api.admin_headers()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["days"]) == 365
    assert {day["date"]: day["orders"] for day in body["days"] if day["orders"]} == dict(count)
    assert {day["date"]: Decimal(day["revenue"]) for day in body["days"] if day["orders"]} == dict(revenue)
    # Every status is counted, the checkout ones (pending_payment, refunded) too: none were seeded.
    seeded = Counter(status for _, status, _, _ in orders)
    assert body["orders_by_status"] == {status.value: seeded.get(status.value, 0) for status in OrderStatus}

    # Explicit ids did not leave the sequences behind: a real order still gets a fresh id.
    placed = await api.order(await api.customer(), (products[0]["id"], 1))
    assert placed.status_code == 201, placed.text
    assert placed.json()["id"] > max(order_id for order_id, _, _, _ in orders)


def test_seeding_orders_needs_customers_and_products(tmp_path: Path) -> None:
    result = storefront(tmp_path, "seed", "--orders", "5")
    assert result.returncode == 2
    assert "storefront seed --users N" in result.stderr
    result = storefront(tmp_path, "seed", "--users", "2", "--orders", "5")
    assert result.returncode == 2
    assert "storefront seed --products N" in result.stderr
