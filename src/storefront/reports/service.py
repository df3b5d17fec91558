"""CSV exports streamed from keyset batches: memory stays flat whatever the row count,
and a client that goes away stops the query (the generator is closed)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import structlog
from sqlalchemy import select

from storefront.catalog.models import Category, Product
from storefront.core.db import Database
from storefront.core.sqltypes import AnyRow, AnySelect
from storefront.identity.models import User
from storefront.orders.models import Order, OrderLine

log = structlog.get_logger("storefront.reports")

ORDER_COLUMNS = [
    "order_id",
    "created_at",
    "status",
    "user_email",
    "product_id",
    "title",
    "unit_price",
    "quantity",
    "line_total",
    "order_total",
]
PRODUCT_COLUMNS = ["id", "slug", "title", "category", "price", "stock", "created_at"]


def _csv(rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)  # RFC 4180 line endings
    return buffer.getvalue()


def _money(value: Any) -> str:
    return f"{value:.2f}"


# One batch of a report: the statement for the rows after a key, and how a row is written.
Batch = Callable[[int], AnySelect]
Render = Callable[[AnyRow], Sequence[Any]]


class Reports:
    def __init__(self, db: Database, batch_size: int) -> None:
        self.db = db
        self.batch_size = batch_size

    async def _export(self, name: str, header: list[str], batch: Batch, render: Render) -> AsyncIterator[str]:
        """Stream ``header`` then every batch, keyed by the first column of its rows."""
        yield _csv([header])
        sent = 0
        finished = False
        try:
            async with self.db.reader() as connection:
                last = 0
                while rows := (await connection.execute(batch(last))).all():
                    yield _csv(render(row) for row in rows)
                    sent += len(rows)
                    last = rows[-1][0]
            finished = True
        finally:
            self._log(name, sent, finished)

    def products(self) -> AsyncIterator[str]:
        def batch(last_id: int) -> AnySelect:
            return (
                select(
                    Product.id,
                    Product.slug,
                    Product.title,
                    Category.slug,
                    Product.price.label("price"),
                    Product.stock,
                    Product.created_at,
                )
                .join(Category, Category.id == Product.category_id)
                .where(Product.id > last_id, Product.archived_at.is_(None))
                .order_by(Product.id)
                .limit(self.batch_size)
            )

        def render(row: AnyRow) -> Sequence[Any]:
            return (row[0], row[1], row[2], row[3], _money(row[4]), row[5], row[6].isoformat())

        return self._export("products", PRODUCT_COLUMNS, batch, render)

    def orders(self, start: date, end: date) -> AsyncIterator[str]:
        lower = datetime.combine(start, time.min, tzinfo=UTC)
        upper = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)

        def batch(last_order: int) -> AnySelect:
            # Keyset over orders alone (their primary key), then their lines: each batch is
            # an index range scan, however deep the export is. Every order has at least one
            # line, so a batch without lines means no orders are left.
            orders = (
                select(Order.id, Order.created_at, Order.status, Order.user_id, Order.total)
                .where(Order.created_at >= lower, Order.created_at < upper, Order.id > last_order)
                .order_by(Order.id)
                .limit(self.batch_size)
                .subquery()
            )
            return (
                select(
                    orders.c.id,
                    orders.c.created_at,
                    orders.c.status,
                    User.email,
                    OrderLine.product_id,
                    OrderLine.title,
                    OrderLine.unit_price.label("unit_price"),
                    OrderLine.quantity,
                    OrderLine.line_total.label("line_total"),
                    orders.c.total,
                )
                .join(OrderLine, OrderLine.order_id == orders.c.id)
                .join(User, User.id == orders.c.user_id)
                .order_by(orders.c.id, OrderLine.id)
            )

        def render(row: AnyRow) -> Sequence[Any]:
            unit_price, line_total, total = _money(row[6]), _money(row[8]), _money(row[9])
            return (row[0], row[1].isoformat(), row[2], row[3], row[4], row[5], unit_price, row[7], line_total, total)

        return self._export("orders", ORDER_COLUMNS, batch, render)

    @staticmethod
    def _log(report: str, rows: int, finished: bool) -> None:
        if finished:
            log.info("report_sent", report=report, rows=rows)
        else:
            # The client went away (or the server is stopping): the query stopped with it.
            log.info("report_cancelled", report=report, rows=rows)
