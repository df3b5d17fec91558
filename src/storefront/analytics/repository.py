"""Analytics queries: read-only SQL over the sales roll-ups (kept by triggers, see
``storefront.analytics.models``) and products, the same answers on both backends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, desc, func, literal, or_, select, union_all

from storefront.analytics.models import SalesDay, SalesProduct
from storefront.catalog.models import Product
from storefront.core.models import cents, money
from storefront.core.repository import Repository
from storefront.core.sqltypes import AnyRow, AnySelect
from storefront.orders.models import PAID_STATUSES

# Orders that count as sales: paid (or settled on account), refunded in part or whole.
SOLD = PAID_STATUSES


@dataclass(frozen=True, slots=True)
class Periods:
    """Days [first, last] read as the whole calendar months inside them plus the days at
    either edge: a year is 12 month rows per product and at most ~60 day rows."""

    months: tuple[date, date] | None  # first days of the first and last whole month
    days: list[tuple[date, date]]  # inclusive day ranges outside those months

    @classmethod
    def of(cls, first: date, last: date) -> Periods:
        month_start = first if first.day == 1 else _next_month(first)
        after = last + timedelta(days=1)
        month_end = after.replace(day=1)  # exclusive: the first day not in a whole month
        if month_start >= month_end:
            return cls(None, [(first, last)])
        edges = [(first, month_start - timedelta(days=1)), (month_end, last)]
        last_month = (month_end - timedelta(days=1)).replace(day=1)
        return cls((month_start, last_month), [(lower, upper) for lower, upper in edges if lower <= upper])


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


class AnalyticsRepository(Repository):
    async def per_day_and_status(self, first: date, last: date) -> Sequence[AnyRow]:
        """(day, status, orders, total net of refunds) of the orders created on days
        [first, last], from the roll-up: at most a few rows per day."""
        rows = await self.session.execute(
            select(SalesDay.day, SalesDay.status, SalesDay.orders, SalesDay.net).where(
                SalesDay.day >= first, SalesDay.day <= last, SalesDay.orders != 0
            )
        )
        return rows.all()

    async def top_products(self, first: date, last: date, top: int) -> Sequence[AnyRow]:
        """(ranking, product_id, title, units, revenue): the ``top`` products by revenue,
        then by units, of the orders created on days [first, last] that were sold (not
        cancelled, not waiting for their payment), less the units refunded line by line.

        Sales per product are added up once from the roll-up and ranked twice, in one statement."""
        periods = Periods.of(first, last)
        wanted = [
            (SalesProduct.grain == "d") & SalesProduct.period.between(lower, upper) for lower, upper in periods.days
        ]
        if periods.months is not None:
            wanted.append((SalesProduct.grain == "m") & SalesProduct.period.between(*periods.months))
        per_product = (
            select(
                SalesProduct.product_id.label("product_id"),
                func.sum(SalesProduct.units).label("units"),
                money(func.sum(cents(SalesProduct.revenue))).label("revenue"),
            )
            .where(or_(*wanted))
            .group_by(SalesProduct.product_id)
            # A product whose sold lines all went away (cancelled) keeps zero rows: not a sale.
            .having(func.sum(SalesProduct.lines) > 0)
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
