"""Analytics queries: read-only SQL over orders and products, the same answers on both backends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, cast, desc, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.models import Product
from storefront.core.models import cents, money
from storefront.core.repository import Repository
from storefront.core.sqltypes import AnyRow, AnySelect
from storefront.orders.models import PAID_STATUSES, Order, OrderLine

# Orders that count as sales: paid (or settled on account), refunded in part or whole.
SOLD = PAID_STATUSES


def _day(dialect: str) -> ColumnElement[Any]:
    """The UTC calendar day of an order."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", Order.created_at), Date)
    return func.date(Order.created_at)  # SQLite stores UTC text


class AnalyticsRepository(Repository):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.dialect = session.get_bind().dialect.name

    async def per_day_and_status(self, lower: datetime, upper: datetime) -> Sequence[AnyRow]:
        """(day, status, orders, total net of refunds) of the orders created in [lower, upper):
        one pass over the covering index."""
        day = _day(self.dialect).label("day")
        # Arithmetic on money columns runs on their cents; the sum is read back as money.
        net = func.coalesce(func.sum(money(cents(Order.total) - cents(Order.refunded_total))), 0)
        rows = await self.session.execute(
            select(day, Order.status, func.count(), net)
            .where(Order.created_at >= lower, Order.created_at < upper)
            .group_by(day, Order.status)
        )
        return rows.all()

    async def top_products(self, lower: datetime, upper: datetime, top: int) -> Sequence[AnyRow]:
        """(ranking, product_id, title, units, revenue): the ``top`` products by revenue,
        then by units, of the orders in [lower, upper) that were sold (not cancelled, not
        waiting for their payment), less the units refunded line by line.

        Sales per product are added up once and ranked twice, in one statement."""
        counted = (Order.created_at >= lower) & (Order.created_at < upper) & Order.status.in_(SOLD)
        per_product = (
            select(
                OrderLine.product_id.label("product_id"),
                func.sum(OrderLine.quantity - OrderLine.refunded_quantity).label("units"),
                func.sum(
                    money(cents(OrderLine.line_total) - cents(OrderLine.unit_price) * OrderLine.refunded_quantity)
                ).label("revenue"),
            )
            .join(Order, Order.id == OrderLine.order_id)
            .where(counted)
            .group_by(OrderLine.product_id)
            .cte("per_product")
        )

        def ranked(name: str, key: ColumnElement[Any]) -> AnySelect:
            order = (desc(key), per_product.c.product_id)  # ties by product id
            position = func.row_number().over(order_by=order).label("position")
            columns = (literal(name).label("ranking"), position, per_product.c.product_id, per_product.c.units)
            return select(*columns, per_product.c.revenue).order_by(*order).limit(top)

        both = union_all(
            ranked("revenue", per_product.c.revenue).subquery().select(),
            ranked("units", per_product.c.units).subquery().select(),
        ).subquery()
        rows = await self.session.execute(
            select(both.c.ranking, both.c.product_id, Product.title, both.c.units, both.c.revenue)
            .join(Product, Product.id == both.c.product_id)
            .order_by(both.c.ranking, both.c.position)
        )
        return rows.all()

    async def low_stock(self, limit: int) -> Sequence[AnyRow]:
        """(id, title, stock, low_stock_threshold) of live products below their threshold, lowest first."""
        rows = await self.session.execute(
            select(Product.id, Product.title, Product.stock, Product.low_stock_threshold)
            .where(Product.archived_at.is_(None), Product.stock < Product.low_stock_threshold)
            .order_by(Product.stock, Product.id)
            .limit(limit)
        )
        return rows.all()
