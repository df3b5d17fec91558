"""CSV exports streamed from keyset batches: memory stays flat whatever the row count,
and a client that goes away stops the query (the generator is closed)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import structlog
from sqlalchemy import select

from storefront.catalog.models import Category, Product
from storefront.core.db import Database
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


class Reports:
    def __init__(self, db: Database, batch_size: int) -> None:
        self.db = db
        self.batch_size = batch_size

    async def products(self) -> AsyncIterator[str]:
        yield _csv([PRODUCT_COLUMNS])
        sent = 0
        finished = False
        try:
            async with self.db.reader() as connection:
                last_id = 0
                while True:
                    rows = (
                        await connection.execute(
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
                    ).all()
                    if not rows:
                        break
                    yield _csv(
                        (row[0], row[1], row[2], row[3], _money(row[4]), row[5], row[6].isoformat()) for row in rows
                    )
                    sent += len(rows)
                    last_id = rows[-1][0]
            finished = True
        finally:
            self._log("products", sent, finished)

    async def orders(self, start: date, end: date) -> AsyncIterator[str]:
        lower = datetime.combine(start, time.min, tzinfo=UTC)
        upper = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
        yield _csv([ORDER_COLUMNS])
        sent = 0
        finished = False
        try:
            async with self.db.reader() as connection:
                last_order = 0
                while True:
                    # Keyset over orders alone (their primary key), then their lines: each batch
                    # is an index range scan, however deep the export is.
                    orders = (
                        select(Order.id, Order.created_at, Order.status, Order.user_id, Order.total)
                        .where(Order.created_at >= lower, Order.created_at < upper, Order.id > last_order)
                        .order_by(Order.id)
                        .limit(self.batch_size)
                        .subquery()
                    )
                    rows = (
                        await connection.execute(
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
                    ).all()
                    if not rows:  # every order has at least one line, so no lines means no orders left
                        break
                    yield _csv(
                        (
                            row[0],
                            row[1].isoformat(),
                            row[2],
                            row[3],
                            row[4],
                            row[5],
                            _money(row[6]),
                            row[7],
                            _money(row[8]),
                            _money(row[9]),
                        )
                        for row in rows
                    )
                    sent += len(rows)
                    last_order = rows[-1][0]
            finished = True
        finally:
            self._log("orders", sent, finished)

    @staticmethod
    def _log(report: str, rows: int, finished: bool) -> None:
        if finished:
            log.info("report_sent", report=report, rows=rows)
        else:
            # The client went away (or the server is stopping): the query stopped with it.
            log.info("report_cancelled", report=report, rows=rows)
