"""Revenue, orders and stock, computed in SQL (the same answers on both backends)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, cast, desc, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.models import Product
from storefront.core.errors import InvalidInput
from storefront.orders.models import Order, OrderLine, OrderStatus

MAX_RANGE_DAYS = 366
TOP = 10


def _day(dialect: str) -> ColumnElement[Any]:
    """The UTC calendar day of an order."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", Order.created_at), Date)
    return func.date(Order.created_at)  # SQLite stores UTC text


class Analytics:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    async def report(self, start: date, end: date) -> dict[str, Any]:
        if end < start:
            raise InvalidInput("to", "must not be before from")
        if (end - start).days >= MAX_RANGE_DAYS:
            raise InvalidInput("to", f"the range is at most {MAX_RANGE_DAYS} days")
        lower = datetime.combine(start, time.min, tzinfo=UTC)
        upper = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
        in_range = (Order.created_at >= lower) & (Order.created_at < upper)
        counted = in_range & (Order.status != OrderStatus.CANCELLED)
        return {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "days": await self._days(start, end, counted),
            "top_products": {
                "by_revenue": await self._top(counted, by_revenue=True),
                "by_units": await self._top(counted, by_revenue=False),
            },
            "orders_by_status": await self._by_status(in_range),
            "low_stock": await self._low_stock(),
        }

    async def _days(self, start: date, end: date, counted: ColumnElement[bool]) -> list[dict[str, Any]]:
        day = _day(self.dialect).label("day")
        rows = await self.session.execute(
            select(day, func.count(), func.coalesce(func.sum(Order.total), 0)).where(counted).group_by(day)
        )
        found = {str(row[0]): (row[1], row[2]) for row in rows}
        days = []
        for offset in range((end - start).days + 1):  # every day present, zero when quiet
            current = (start + timedelta(days=offset)).isoformat()
            orders, revenue = found.get(current, (0, Decimal(0)))
            days.append({"date": current, "orders": orders, "revenue": f"{Decimal(revenue):.2f}"})
        return days

    async def _top(self, counted: ColumnElement[bool], *, by_revenue: bool) -> list[dict[str, Any]]:
        units = func.sum(OrderLine.quantity).label("units")
        revenue = func.sum(OrderLine.line_total).label("revenue")
        rows = await self.session.execute(
            select(OrderLine.product_id, func.max(OrderLine.title), units, revenue)
            .join(Order, Order.id == OrderLine.order_id)
            .where(counted)
            .group_by(OrderLine.product_id)
            .order_by(desc(revenue if by_revenue else units), OrderLine.product_id)
            .limit(TOP)
        )
        return [
            {"product_id": row[0], "title": row[1], "units": int(row[2]), "revenue": f"{row[3]:.2f}"} for row in rows
        ]

    async def _by_status(self, in_range: ColumnElement[bool]) -> dict[str, int]:
        rows = await self.session.execute(select(Order.status, func.count()).where(in_range).group_by(Order.status))
        counts = {status.value: 0 for status in OrderStatus}
        counts.update({status: count for status, count in rows.all()})  # noqa: C416 - Row to plain pairs
        return counts

    async def _low_stock(self) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(Product.id, Product.title, Product.stock, Product.low_stock_threshold)
            .where(Product.archived_at.is_(None), Product.stock < Product.low_stock_threshold)
            .order_by(Product.stock, Product.id)
            .limit(50)
        )
        return [{"product_id": row[0], "title": row[1], "stock": row[2], "low_stock_threshold": row[3]} for row in rows]
