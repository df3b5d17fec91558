"""CSV exports streamed from keyset batches: memory stays flat whatever the row count,
and a client that goes away stops the query (the generator is closed)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import structlog

from storefront.core.db import Database
from storefront.core.errors import InvalidInput
from storefront.core.sqltypes import AnyRow
from storefront.reports.repository import ReportRepository

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


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection):
# text from users is written with a leading apostrophe instead, as OWASP advises.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _money(value: Any) -> str:
    return f"{value:.2f}"


# One batch of a report: the rows after a key, read through the repository; and how a row is written.
Batch = Callable[[ReportRepository, int], Awaitable[Sequence[AnyRow]]]
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
                queries = ReportRepository(connection)
                last = 0
                while rows := await batch(queries, last):
                    yield _csv(render(row) for row in rows)
                    sent += len(rows)
                    last = rows[-1][0]
            finished = True
        finally:
            self._log(name, sent, finished)

    def products(self) -> AsyncIterator[str]:
        async def batch(queries: ReportRepository, last_id: int) -> Sequence[AnyRow]:
            return await queries.products(last_id, self.batch_size)

        def render(row: AnyRow) -> Sequence[Any]:
            return (row[0], row[1], _text(row[2]), _text(row[3]), _money(row[4]), row[5], row[6].isoformat())

        return self._export("products", PRODUCT_COLUMNS, batch, render)

    def orders(self, start: date, end: date) -> AsyncIterator[str]:
        """The order lines of the orders created from ``start`` to ``end`` (UTC days, inclusive)."""
        if end < start:
            raise InvalidInput("to", "must not be before from")
        lower = datetime.combine(start, time.min, tzinfo=UTC)
        upper = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)

        async def batch(queries: ReportRepository, last_order: int) -> Sequence[AnyRow]:
            return await queries.order_lines(lower, upper, last_order, self.batch_size)

        def render(row: AnyRow) -> Sequence[Any]:
            unit_price, line_total, total = _money(row[6]), _money(row[8]), _money(row[9])
            email, title = _text(row[3]), _text(row[5])
            return (row[0], row[1].isoformat(), row[2], email, row[4], title, unit_price, row[7], line_total, total)

        return self._export("orders", ORDER_COLUMNS, batch, render)

    @staticmethod
    def _log(report: str, rows: int, finished: bool) -> None:
        if finished:
            log.info("report_sent", report=report, rows=rows)
        else:
            # The client went away (or the server is stopping): the query stopped with it.
            log.info("report_cancelled", report=report, rows=rows)
