"""Deterministic order history for `storefront seed --orders N`: enough to make the
analytics and the CSV reports meaningful (and to benchmark them at a million orders).

Orders are history, not checkouts: they are written straight into `orders` and
`order_lines` (COPY on PostgreSQL, batched inserts on SQLite) with explicit ids,
spread over the calendar year 2025, and they do not move stock, send email or
create notifications."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.models import Product
from storefront.core.errors import InvalidInput
from storefront.identity.models import Role, User
from storefront.orders.models import Order, OrderLine, OrderStatus

HISTORY_START = datetime(2025, 1, 1, tzinfo=UTC)
HISTORY_SECONDS = 365 * 24 * 3600
PRODUCT_POOL = 5_000  # orders draw from a popular subset, as real shops do
# Old orders are mostly delivered; the weights keep every status present.
STATUS_WEIGHTS = {
    OrderStatus.DELIVERED: 70,
    OrderStatus.SHIPPED: 12,
    OrderStatus.PLACED: 12,
    OrderStatus.CANCELLED: 6,
}


@dataclass(frozen=True, slots=True)
class PoolProduct:
    id: int
    title: str
    price_cents: int


@dataclass(frozen=True, slots=True)
class SeedOrder:
    id: int
    user_id: int
    status: str
    total_cents: int
    created_at: datetime
    lines: list[tuple[int, str, int, int]]  # product id, title, unit price cents, quantity


def generate(count: int, seed: int, first_id: int, user_ids: list[int], pool: list[PoolProduct]) -> Iterator[SeedOrder]:
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    for number in range(count):
        picked = rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2, 2, 3, 4))))
        lines = [(p.id, p.title, p.price_cents, rng.choice((1, 1, 1, 2, 3))) for p in picked]
        yield SeedOrder(
            id=first_id + number,
            user_id=rng.choice(user_ids),
            status=rng.choices(statuses, weights)[0].value,
            total_cents=sum(price * quantity for _, _, price, quantity in lines),
            created_at=HISTORY_START + timedelta(seconds=rng.randrange(HISTORY_SECONDS)),
            lines=lines,
        )


async def _sources(session: AsyncSession, seed: int) -> tuple[list[int], list[PoolProduct]]:
    user_ids = list(
        (await session.scalars(select(User.id).where(User.role == Role.CUSTOMER.value, User.is_active))).all()
    )
    if not user_ids:
        raise InvalidInput("orders", "needs customers: add some first (storefront seed --users N)")
    live = Product.archived_at.is_(None)
    total = await session.scalar(select(func.count()).select_from(Product).where(live)) or 0
    if not total:
        raise InvalidInput("orders", "needs products: add some first (storefront seed --products N)")
    # A deterministic, spread-out pool without loading a million rows: every k-th product.
    step = max(1, total // PRODUCT_POOL)
    offset = random.Random(seed).randrange(step)  # noqa: S311
    ranked = select(Product.id, Product.title, Product.price, func.row_number().over(order_by=Product.id).label("n"))
    subquery = ranked.where(live).subquery()
    rows = await session.execute(
        select(subquery.c.id, subquery.c.title, subquery.c.price)
        .where((subquery.c.n - 1) % step == offset)
        .limit(PRODUCT_POOL)
    )
    pool = [PoolProduct(row[0], row[1], int(Decimal(row[2]) * 100)) for row in rows]
    return user_ids, pool


ORDER_COLUMNS = ["id", "user_id", "status", "total_cents", "created_at", "updated_at"]
ORDERS, ORDER_LINES = cast(Table, Order.__table__), cast(Table, OrderLine.__table__)
LINE_COLUMNS = ["id", "order_id", "product_id", "title", "unit_price_cents", "quantity", "line_total_cents"]


def _flatten(batch: list[SeedOrder], first_line_id: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    orders: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    line_id = first_line_id
    for order in batch:
        orders.append((order.id, order.user_id, order.status, order.total_cents, order.created_at, order.created_at))
        for product_id, title, price, quantity in order.lines:
            lines.append((line_id, order.id, product_id, title, price, quantity, price * quantity))
            line_id += 1
    return orders, lines


async def _copy(session: AsyncSession, orders: list[tuple[Any, ...]], lines: list[tuple[Any, ...]]) -> None:
    raw = await (await session.connection()).get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table("orders", records=orders, columns=ORDER_COLUMNS)
    await driver.copy_records_to_table("order_lines", records=lines, columns=LINE_COLUMNS)


def _amounts(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    # The money columns' type takes decimal amounts and stores cents itself (COPY bypasses it).
    return row | {column: Decimal(row[column]).scaleb(-2) for column in columns}


async def _insert(session: AsyncSession, orders: list[tuple[Any, ...]], lines: list[tuple[Any, ...]]) -> None:
    order_rows = [_amounts(dict(zip(ORDER_COLUMNS, row, strict=True)), "total_cents") for row in orders]
    line_rows = [
        _amounts(dict(zip(LINE_COLUMNS, row, strict=True)), "unit_price_cents", "line_total_cents") for row in lines
    ]
    await session.execute(insert(ORDERS), order_rows)
    await session.execute(insert(ORDER_LINES), line_rows)


async def seed_orders(
    session: AsyncSession, count: int, seed: int, progress: Callable[[int], None], batch_size: int = 10_000
) -> int:
    """Add ``count`` orders after those already there, from existing customers and products."""
    user_ids, pool = await _sources(session, seed)
    first_id = (await session.scalar(select(func.max(Order.id))) or 0) + 1
    line_id = (await session.scalar(select(func.max(OrderLine.id))) or 0) + 1
    postgres = session.get_bind().dialect.name == "postgresql"
    load = _copy if postgres else _insert
    batch: list[SeedOrder] = []
    for order in generate(count, seed + first_id, first_id, user_ids, pool):
        batch.append(order)
        if len(batch) == batch_size:
            orders, lines = _flatten(batch, line_id)
            await load(session, orders, lines)
            line_id += len(lines)
            progress(len(batch))
            batch = []
    if batch:
        orders, lines = _flatten(batch, line_id)
        await load(session, orders, lines)
        progress(len(batch))
    if postgres:
        # Explicit ids bypassed the sequences: move them past what was written.
        for table in ("orders", "order_lines"):
            await session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608 - fixed names
            )
    return count
