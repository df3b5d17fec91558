"""Report queries over a read-only connection (no ORM session: rows are streamed straight to
CSV): keyset batches that the service writes as CSV (SQLite), or one COPY statement that
PostgreSQL writes as CSV itself (docs/performance.md, "Issue 16, row 6")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.catalog.models import Category, Product
from storefront.core.sqltypes import AnyRow
from storefront.identity.models import User
from storefront.orders.models import Order, OrderLine


class ReportRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def products(self, after_id: int, limit: int) -> Sequence[AnyRow]:
        """(id, slug, title, category slug, price, stock, created_at) of the next live products by id."""
        query = (
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
            .where(Product.id > after_id, Product.archived_at.is_(None))
            .order_by(Product.id)
            .limit(limit)
        )
        return (await self.connection.execute(query)).all()

    async def order_lines(self, lower: datetime, upper: datetime, after_id: int, limit: int) -> Sequence[AnyRow]:
        """(order id, created_at, status, user email, product_id, title, unit_price, quantity,
        line_total, order total): every line of the next ``limit`` orders by id created in
        [lower, upper)."""
        # Keyset over orders alone (their primary key), then their lines: each batch is
        # an index range scan, however deep the export is. Every order has at least one
        # line, so a batch without lines means no orders are left.
        orders = (
            select(Order.id, Order.created_at, Order.status, Order.user_id, Order.total)
            .where(Order.created_at >= lower, Order.created_at < upper, Order.id > after_id)
            .order_by(Order.id)
            .limit(limit)
            .subquery()
        )
        query = (
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
        return (await self.connection.execute(query)).all()

    # --- PostgreSQL: the same rows written as CSV by the server (COPY) -----------------------

    async def copy_products_csv(self, output: CopySink) -> int:
        """The rows of ``products`` (all of them, one statement) as CSV through ``output``."""
        # Only fixed column names go into the text (no input): noqa S608.
        sql = f"""SELECT p.id, {_text("p.slug", guard=False)}, {_text("p.title")}, {_text("c.slug")},
            {_money("p.price_cents")}, p.stock, {_timestamp("p.created_at")}
            FROM products p JOIN categories c ON c.id = p.category_id
            WHERE p.archived_at IS NULL ORDER BY p.id"""  # noqa: S608
        return await self._copy(sql, output)

    async def copy_order_lines_csv(self, lower: datetime, upper: datetime, output: CopySink) -> int:
        """The rows of ``order_lines`` for [lower, upper) (one statement) as CSV through ``output``."""
        # Fixed column names, and bounds that _instant checks: noqa S608.
        sql = f"""SELECT o.id, {_timestamp("o.created_at")}, {_text("o.status", guard=False)},
            {_text("u.email")}, l.product_id, {_text("l.title")}, {_money("l.unit_price_cents")},
            l.quantity, {_money("l.line_total_cents")}, {_money("o.total_cents")}
            FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN users u ON u.id = o.user_id
            WHERE o.created_at >= {_instant(lower)} AND o.created_at < {_instant(upper)}
            ORDER BY o.id, l.id"""  # noqa: S608
        return await self._copy(sql, output)

    async def _copy(self, sql: str, output: CopySink) -> int:
        """Stream ``COPY (sql) TO STDOUT`` as CSV chunks (rows end in ``\\n``) into ``output``;
        returns the row count. ``output`` applies back-pressure: asyncpg stops reading the
        socket while it waits, so PostgreSQL waits too and nothing piles up in memory."""
        raw = await self.connection.get_raw_connection()
        driver: Any = raw.driver_connection
        # One statement for the whole export, as long as the client takes to download it:
        # the pool's statement_timeout (15 s by default) must not cut a slow download short.
        # SET LOCAL needs a transaction; the read pool runs in autocommit, so open one here
        # (read only) unless the caller already has one (tests bind to their transaction).
        own = not driver.is_in_transaction()
        if own:
            await driver.execute("BEGIN READ ONLY")
        try:
            await driver.execute("SET LOCAL statement_timeout = 0")
            status: str = await driver.copy_from_query(sql, output=output, format="csv")
        finally:
            if own:
                await self._end(driver)
        return int(status.rsplit(" ", 1)[-1])  # "COPY 1234"

    async def _end(self, driver: Any) -> None:
        # Runs on every exit, a client that went away included (asyncpg has then sent a
        # cancel request and waits for it before the next statement). A connection that
        # cannot even roll back is closed rather than returned to the pool mid-transaction.
        try:
            await driver.execute("ROLLBACK")
        except BaseException:
            await self.connection.invalidate()
            raise


# The COPY statements write each value the way the Python path (service.py) writes it,
# so that the bytes are the same on both backends (held equal by a test on PostgreSQL):
CopySink = Callable[[bytes], Awaitable[None]]


def _text(column: str, *, guard: bool = True) -> str:
    """Text as csv.writer writes it: an empty string unquoted (COPY quotes '' but not NULL),
    and with ``guard``, a leading apostrophe before a spreadsheet formula (service._text):
    = + - @ tab CR, by code point (ascii() of the first character: cheaper than left())."""
    if not guard:
        return f"NULLIF({column}, '')"
    formula = f"ascii({column}) IN (61, 43, 45, 64, 9, 13)"
    return f"CASE WHEN {formula} THEN '''' || {column} ELSE NULLIF({column}, '') END"


def _money(cents: str) -> str:
    # bigint * numeric(3,2) has exactly two decimals: 1234 -> 12.34, 0 -> 0.00, as f"{Decimal:.2f}".
    return f"{cents} * 0.01"


def _timestamp(column: str) -> str:
    # datetime.isoformat() of a UTC value: microseconds only when not zero, then +00:00. One
    # to_char with them always, then the zero ones dropped (".000000+" can only be there).
    iso = f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
    return f"replace({iso}, '.000000+', '+')"


def _instant(value: datetime) -> str:
    # COPY takes no parameters. The bounds are datetimes the service built from dates: their
    # ISO form is digits and separators only, so the literal cannot carry anything else.
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise TypeError("an aware datetime is required")
    return f"'{value.isoformat()}'::timestamptz"
