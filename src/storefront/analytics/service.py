"""Revenue, orders and stock for admins: the range checked, the repository's rows shaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.analytics.repository import SOLD, AnalyticsRepository
from storefront.core.errors import InvalidInput
from storefront.core.sqltypes import AnyRow
from storefront.orders.models import OrderStatus

MAX_RANGE_DAYS = 366
TOP = 10
LOW_STOCK_LIMIT = 50


class Analytics:
    def __init__(self, session: AsyncSession) -> None:
        self.queries = AnalyticsRepository(session)

    async def report(self, start: date, end: date) -> dict[str, Any]:
        if end < start:
            raise InvalidInput("to", "must not be before from")
        if (end - start).days >= MAX_RANGE_DAYS:
            raise InvalidInput("to", f"the range is at most {MAX_RANGE_DAYS} days")
        days, by_status = _days_and_statuses(start, end, await self.queries.per_day_and_status(start, end))
        by_revenue, by_units = _top(await self.queries.top_products(start, end, TOP))
        low_stock = await self.queries.low_stock(LOW_STOCK_LIMIT)
        return {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "days": days,
            "top_products": {"by_revenue": by_revenue, "by_units": by_units},
            "orders_by_status": by_status,
            "low_stock": [
                {"product_id": row[0], "title": row[1], "stock": row[2], "low_stock_threshold": row[3]}
                for row in low_stock
            ],
        }


def _days_and_statuses(start: date, end: date, rows: Sequence[AnyRow]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Orders and revenue per day (every day present, zero when quiet), and orders per status."""
    per_day: dict[str, tuple[int, Decimal]] = {}
    by_status = {status.value: 0 for status in OrderStatus}
    for when, status, count, total in rows:
        by_status[status] += count
        if status in SOLD:  # not cancelled, not waiting for its payment; refunds already taken off
            orders, revenue = per_day.get(str(when), (0, Decimal(0)))
            per_day[str(when)] = (orders + count, revenue + Decimal(total))
    days = []
    for offset in range((end - start).days + 1):
        current = (start + timedelta(days=offset)).isoformat()
        orders, revenue = per_day.get(current, (0, Decimal(0)))
        days.append({"date": current, "orders": orders, "revenue": f"{revenue:.2f}"})
    return days, by_status


def _top(rows: Sequence[AnyRow]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    lists: dict[str, list[dict[str, Any]]] = {"revenue": [], "units": []}
    for ranking, product_id, title, units, revenue in rows:
        lists[ranking].append(
            {"product_id": product_id, "title": title, "units": int(units), "revenue": f"{revenue:.2f}"}
        )
    return lists["revenue"], lists["units"]
