"""Revenue, orders and stock, computed in SQL (the same answers on both backends)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, cast, desc, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.models import Product
from storefront.core.errors import InvalidInput
from storefront.core.sqltypes import AnySelect
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
        days, by_status = await self._days_and_statuses(start, end, in_range)
        by_revenue, by_units = await self._top(in_range & (Order.status != OrderStatus.CANCELLED))
        return {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "days": days,
            "top_products": {"by_revenue": by_revenue, "by_units": by_units},
            "orders_by_status": by_status,
            "low_stock": await self._low_stock(),
        }

    async def _days_and_statuses(
        self, start: date, end: date, in_range: ColumnElement[bool]
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """One pass over the range (from the covering index): per day and status."""
        day = _day(self.dialect).label("day")
        rows = await self.session.execute(
            select(day, Order.status, func.count(), func.coalesce(func.sum(Order.total), 0))
            .where(in_range)
            .group_by(day, Order.status)
        )
        per_day: dict[str, tuple[int, Decimal]] = {}
        by_status = {status.value: 0 for status in OrderStatus}
        for when, status, count, total in rows:
            by_status[status] += count
            if status != OrderStatus.CANCELLED:  # revenue counts every order that is not cancelled
                orders, revenue = per_day.get(str(when), (0, Decimal(0)))
                per_day[str(when)] = (orders + count, revenue + Decimal(total))
        days = []
        for offset in range((end - start).days + 1):  # every day present, zero when quiet
            current = (start + timedelta(days=offset)).isoformat()
            orders, revenue = per_day.get(current, (0, Decimal(0)))
            days.append({"date": current, "orders": orders, "revenue": f"{revenue:.2f}"})
        return days, by_status

    async def _top(self, counted: ColumnElement[bool]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Sales per product added up once, ranked twice, in one statement."""
        per_product = (
            select(
                OrderLine.product_id.label("product_id"),
                func.sum(OrderLine.quantity).label("units"),
                func.sum(OrderLine.line_total).label("revenue"),
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
            return select(*columns, per_product.c.revenue).order_by(*order).limit(TOP)

        both = union_all(
            ranked("revenue", per_product.c.revenue).subquery().select(),
            ranked("units", per_product.c.units).subquery().select(),
        ).subquery()
        rows = await self.session.execute(
            select(both.c.ranking, both.c.product_id, Product.title, both.c.units, both.c.revenue)
            .join(Product, Product.id == both.c.product_id)
            .order_by(both.c.ranking, both.c.position)
        )
        lists: dict[str, list[dict[str, Any]]] = {"revenue": [], "units": []}
        for ranking, product_id, title, units, revenue in rows:
            lists[ranking].append(
                {"product_id": product_id, "title": title, "units": int(units), "revenue": f"{revenue:.2f}"}
            )
        return lists["revenue"], lists["units"]

    async def _low_stock(self) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(Product.id, Product.title, Product.stock, Product.low_stock_threshold)
            .where(Product.archived_at.is_(None), Product.stock < Product.low_stock_threshold)
            .order_by(Product.stock, Product.id)
            .limit(50)
        )
        return [{"product_id": row[0], "title": row[1], "stock": row[2], "low_stock_threshold": row[3]} for row in rows]
