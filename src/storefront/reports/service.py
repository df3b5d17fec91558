"""CSV exports, streamed: memory stays flat whatever the row count, and a client that goes
away stops the query (the generator is closed).

On PostgreSQL the server writes the CSV itself (one ``COPY (query) TO STDOUT``, its values
formatted in SQL the way this module formats them); elsewhere rows are read in keyset
batches and written here with the csv module. Both give the same bytes (a test holds them
equal on PostgreSQL), so a download does not depend on the backend."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import structlog

from storefront.core.db import Database
from storefront.core.errors import InvalidInput
from storefront.core.sqltypes import AnyRow
from storefront.reports.repository import CopySink, ReportRepository

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
# A whole report as one COPY through the repository, into a sink; returns the row count.
Copy = Callable[[ReportRepository, CopySink], Awaitable[int]]

# COPY output waiting for the client, in chunks of ~64 KB: a few keep PostgreSQL busy while
# the response is sent, and a slow client holds back PostgreSQL (asyncpg stops reading
# while the queue is full) instead of memory (at most ~0.6 MB per export).
_QUEUE_CHUNKS = 8
_CHUNK_BYTES = 64 * 1024


class _RowEnds:
    """PostgreSQL ends CSV rows with ``\n``; the csv module (and so every export so far) with
    ``\r\n``. A ``\n`` ends a row unless it is inside a quoted field, and a chunk splits
    into alternating unquoted and quoted stretches at each ``"`` (an escaped ``""`` is an
    empty stretch between two quotes), so only the unquoted stretches change. The state
    carries over from chunk to chunk, since a chunk may end inside a quoted field."""

    def __init__(self) -> None:
        self.quoted = False

    def __call__(self, chunk: bytes | bytearray) -> bytes:
        if not self.quoted and b'"' not in chunk:
            return bytes(chunk.replace(b"\n", b"\r\n"))  # the common case: nothing quoted
        parts = bytes(chunk).split(b'"')
        for index in range(1 if self.quoted else 0, len(parts), 2):
            parts[index] = parts[index].replace(b"\n", b"\r\n")
        if len(parts) % 2 == 0:  # an odd number of quotes: the quoting state flips
            self.quoted = not self.quoted
        return b'"'.join(parts)


class Reports:
    def __init__(self, db: Database, batch_size: int) -> None:
        self.db = db
        self.batch_size = batch_size
        # PostgreSQL writes the CSV: 5-7x the rows/s of reading rows and writing them here
        # (docs/performance.md, "Issue 16, row 6").
        self.copy = db.dialect == "postgresql"

    async def _export(self, name: str, header: list[str], batch: Batch, render: Render) -> AsyncIterator[bytes]:
        """Stream ``header`` then every batch, keyed by the first column of its rows."""
        yield _csv([header]).encode()
        sent = 0
        finished = False
        try:
            async with self.db.reader() as connection:
                queries = ReportRepository(connection)
                last = 0
                while rows := await batch(queries, last):
                    yield _csv(render(row) for row in rows).encode()
                    sent += len(rows)
                    last = rows[-1][0]
            finished = True
        finally:
            self._log(name, sent, finished)

    async def _copy_export(self, name: str, header: list[str], copy: Copy) -> AsyncIterator[bytes]:
        """Stream ``header`` then the chunks of one COPY, run in a task of its own (asyncpg
        pushes chunks into a callback; a response pulls them from an iterator)."""
        yield _csv([header]).encode()
        # The chunks, then None once the COPY has ended, whether it succeeded or not.
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue(_QUEUE_CHUNKS)
        pending = bytearray()

        async def gather(data: bytes) -> None:
            # asyncpg hands over one socket read at a time (~8 KB: PostgreSQL's send buffer);
            # each chunk costs a queue hop and an HTTP body message, so pass on ~64 KB.
            pending.extend(data)
            if len(pending) >= _CHUNK_BYTES:
                await chunks.put(bytes(pending))
                pending.clear()

        async def produce() -> int:
            try:
                async with self.db.reader() as connection:
                    rows = await copy(ReportRepository(connection), gather)
                if pending:
                    await chunks.put(bytes(pending))
            except asyncio.CancelledError:
                raise  # cancelled by the reader itself, which has gone: nobody waits for the end
            except BaseException:
                await chunks.put(None)
                raise
            await chunks.put(None)
            return rows

        producer = asyncio.create_task(produce())
        # If this generator is torn down without waiting for the task, still collect its
        # outcome (no "exception was never retrieved" noise).
        producer.add_done_callback(lambda task: task.cancelled() or task.exception())
        ends = _RowEnds()
        rows = 0
        finished = False
        try:
            while (chunk := await chunks.get()) is not None:
                yield ends(chunk)
            rows = await producer  # raises what the COPY raised
            finished = True
        finally:
            try:
                if not producer.done():
                    # The client went away (or the server is stopping): stop the COPY (the
                    # task gives its connection back on its own) and wait for it if we may:
                    # under a cancelled anyio scope (Starlette's disconnect watch) every
                    # await here is cancelled again at once.
                    producer.cancel()
                    await asyncio.wait((producer,))
            finally:
                self._log(name, rows, finished)

    def products(self) -> AsyncIterator[bytes]:
        if self.copy:
            return self._copy_export("products", PRODUCT_COLUMNS, ReportRepository.copy_products_csv)

        async def batch(queries: ReportRepository, last_id: int) -> Sequence[AnyRow]:
            return await queries.products(last_id, self.batch_size)

        def render(row: AnyRow) -> Sequence[Any]:
            return (row[0], row[1], _text(row[2]), _text(row[3]), _money(row[4]), row[5], row[6].isoformat())

        return self._export("products", PRODUCT_COLUMNS, batch, render)

    def orders(self, start: date, end: date) -> AsyncIterator[bytes]:
        """The order lines of the orders created from ``start`` to ``end`` (UTC days, inclusive)."""
        if end < start:
            raise InvalidInput("to", "must not be before from")
        lower = datetime.combine(start, time.min, tzinfo=UTC)
        upper = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
        if self.copy:

            async def copy(queries: ReportRepository, output: CopySink) -> int:
                return await queries.copy_order_lines_csv(lower, upper, output)

            return self._copy_export("orders", ORDER_COLUMNS, copy)

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
