"""Order queries and writes through the unit of work's session. No commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import CursorResult, bindparam, delete, func, insert, inspect, select, update
from sqlalchemy.orm import selectinload

from storefront.core.errors import Conflict
from storefront.core.models import UTCDateTime, cents, money, to_cents
from storefront.core.pagination import IdKeyset
from storefront.core.repository import Repository, insert_unless_present, run_prebuilt, table_of
from storefront.core.sqltypes import AnyRow
from storefront.orders.models import PAID_STATUSES, Order, OrderLine, OrderStatus, PaymentStatus, SentEmail
from storefront.orders.refunds import RefundExceedsPayment

# Attribute -> column key (``total`` is the column ``total_cents``): the inserts below run
# on the connection, past the ORM, and take their values by column.
_ORDER_ATTRIBUTES = {attr.key: attr.columns[0] for attr in inspect(Order).column_attrs}
_LINE_ATTRIBUTES = {attr.key: attr.columns[0] for attr in inspect(OrderLine).column_attrs}
_ORDER_COLUMNS = {key: column.key for key, column in _ORDER_ATTRIBUTES.items() if key != "id"}
_LINE_COLUMNS = {key: column.key for key, column in _LINE_ATTRIBUTES.items() if key != "id"}
_INSERT_ORDER = insert(table_of(Order)).returning(table_of(Order).c.id)
_INSERT_LINE = insert(table_of(OrderLine))
# What the "order placed" notification says (owner, total, units), in one statement where
# loading the order with its lines through the ORM took two and a unit of work's bookkeeping
# (a job per order: docs/performance.md, issue 16 row 5).
_ORDERS, _LINES = table_of(Order).c, table_of(OrderLine).c
_PLACED_SUMMARY = select(
    _ORDERS.user_id,
    _ORDERS.total_cents.label("total"),
    select(func.coalesce(func.sum(_LINES.quantity), 0))
    .where(_LINES.order_id == _ORDERS.id)
    .scalar_subquery()
    .label("units"),
).where(_ORDERS.id == bindparam("order_id"))

# An email's claim, built once (a confirmation email per order: issue 16 row 5). Bound names
# differ from the columns the statements set (SQLAlchemy reserves those).
_SENT = table_of(SentEmail).c
_SENT_NOW = bindparam("now", type_=UTCDateTime())
_SENT_EMAIL = select(_SENT.claimed_at, _SENT.sent_at).where(_SENT.key == bindparam("email_key"))
# A first claim, or nothing when the key has one (any attempt's): one statement per dialect.
_CLAIM_EMAIL = insert_unless_present(table_of(SentEmail), ["key"], _SENT.key)
_TAKE_OVER_EMAIL = (
    update(table_of(SentEmail))
    .where(
        _SENT.key == bindparam("email_key"),
        _SENT.claimed_at == bindparam("seen", type_=UTCDateTime()),
        _SENT.sent_at.is_(None),
    )
    .values(claimed_at=_SENT_NOW)
)
_MARK_EMAIL_SENT = update(table_of(SentEmail)).where(_SENT.key == bindparam("email_key")).values(sent_at=_SENT_NOW)

# An order with its lines in one statement (each row an order's columns and one line's), for
# reads that change nothing: the confirmation email's (a job per order). Through the session
# the same read took two statements and an identity map's bookkeeping, about a tenth of the
# worker's time (docs/performance.md, issue 16 row 5). Labels are the attributes' names.
_ORDER_SNAPSHOT = (
    select(
        *(column.label(key) for key, column in _ORDER_ATTRIBUTES.items()),
        *(column.label(f"line_{key}") for key, column in _LINE_ATTRIBUTES.items()),
    )
    .select_from(table_of(Order).outerjoin(table_of(OrderLine), _LINES.order_id == _ORDERS.id))
    .where(_ORDERS.id == bindparam("order_id"))
    .order_by(_LINES.id)
)


class EmailClaim(Enum):
    """What ``claim_email`` found: the email is ours to send now, sent already, or held by
    another attempt (a claim younger than the lease, or a stale one taken over first)."""

    OURS = "ours"
    SENT = "sent"
    HELD = "held"


class OrderRepository(Repository):
    async def insert(self, order: Order) -> Order:
        """Write a new order and its lines: two statements, the order's id from RETURNING.

        Not through the session's unit of work: a flush of an order with its lines cost
        more CPU than the statements themselves (docs/performance.md, issue 16 row 4). The
        order stays a plain object (not in the session), complete as written: every
        column is given here, nothing is left to a default the database would fill in.
        """
        now = datetime.now(UTC)
        order.created_at = order.created_at or now
        order.updated_at = order.updated_at or now
        for field in ("shipping_total", "tax_total", "refunded_total"):
            if getattr(order, field) is None:
                setattr(order, field, Decimal(0))
        values = {column: getattr(order, field) for field, column in _ORDER_COLUMNS.items()}
        order.id = (await run_prebuilt(self.session, _INSERT_ORDER, values)).scalar_one()
        for line in order.lines:
            line.order_id = order.id
            line.refunded_quantity = line.refunded_quantity or 0
        # One statement for every line (executemany, batched by the driver).
        lines = [{column: getattr(line, field) for field, column in _LINE_COLUMNS.items()} for line in order.lines]
        await run_prebuilt(self.session, _INSERT_LINE, lines)
        return order

    async def placed_summary(self, order_id: int) -> AnyRow | None:
        """The order's owner (``user_id``), ``total`` and ``units`` ordered; None if it is gone."""
        return (await run_prebuilt(self.session, _PLACED_SUMMARY, {"order_id": order_id})).first()

    async def get(self, order_id: int, owner_id: int | None) -> Order | None:
        """An order with its lines; ``owner_id`` limits it to that user's orders."""
        query = select(Order).options(selectinload(Order.lines)).where(Order.id == order_id)
        if owner_id is not None:
            query = query.where(Order.user_id == owner_id)
        return await self.session.scalar(query)

    async def snapshot(self, order_id: int) -> Order | None:
        """An order with its lines as they are now, detached: plain objects outside the
        session, for reading only (a change to them is never written). None if it is gone."""
        rows = (await run_prebuilt(self.session, _ORDER_SNAPSHOT, {"order_id": order_id})).mappings().all()
        if not rows:
            return None
        order = Order(**{key: rows[0][key] for key in _ORDER_ATTRIBUTES})
        order.lines = [
            OrderLine(**{key: row[f"line_{key}"] for key in _LINE_ATTRIBUTES})
            for row in rows
            if row["line_id"] is not None  # the outer join's row of an order without lines
        ]
        return order

    async def list(self, owner_id: int | None, status: OrderStatus | None, keyset: IdKeyset) -> Sequence[Order]:
        """Newest first; ``owner_id`` limits it to that user's orders."""
        query = select(Order).options(selectinload(Order.lines))
        if owner_id is not None:
            query = query.where(Order.user_id == owner_id)
        if status is not None:
            query = query.where(Order.status == status)
        return (await self.session.scalars(keyset.apply(query, Order.id))).all()

    async def recent(self, user_id: int, limit: int) -> Sequence[Order]:
        return await self.list(user_id, None, IdKeyset(None, limit - 1))

    async def spending(self, user_id: int) -> tuple[int, Decimal]:
        """How many orders a user has bought (paid or settled; not cancelled, not awaiting
        payment), and what they spent on them, net of refunds."""
        row = (
            await self.session.execute(
                select(
                    func.count(), func.coalesce(func.sum(money(cents(Order.total) - cents(Order.refunded_total))), 0)
                ).where(Order.user_id == user_id, Order.status.in_(PAID_STATUSES))
            )
        ).one()
        # The sum keeps the column's money type: it arrives as a Decimal amount.
        return int(row[0]), Decimal(row[1])

    async def move(self, order_id: int, current: OrderStatus, target: OrderStatus, **changes: Any) -> bool:
        """Change the status if it is still ``current``: of two concurrent moves only one wins."""
        changed = await self.session.scalar(
            update(Order)
            .where(Order.id == order_id, Order.status == current)
            .values(status=target, updated_at=datetime.now(UTC), **changes)
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
        return changed is not None

    async def set_payment_status(self, order_id: int, status: OrderStatus, payment_status: PaymentStatus) -> None:
        """Record a payment outcome while the order is still in ``status`` (late news changes nothing)."""
        await self.session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == status)
            .values(payment_status=payment_status, updated_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )

    async def add_refunded(self, order: Order, amount: Decimal, lines: Mapping[int, int]) -> None:
        """Count a refund, only if it fits in what is left: the conditions hold under concurrency
        (PostgreSQL re-checks them against the row a concurrent refund just committed)."""
        now = datetime.now(UTC)
        counted = await self.session.scalar(
            update(Order)
            .where(
                Order.id == order.id,
                Order.status.in_(PAID_STATUSES),
                cents(Order.refunded_total) + to_cents(amount) <= cents(Order.total),
            )
            .values(refunded_total=cents(Order.refunded_total) + to_cents(amount), updated_at=now)
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
        if counted is None:
            raise RefundExceedsPayment(order.id, await self._refundable(order.id))
        for product_id, quantity in sorted(lines.items()):
            line_id = await self.session.scalar(
                update(OrderLine)
                .where(
                    OrderLine.order_id == order.id,
                    OrderLine.product_id == product_id,
                    OrderLine.refunded_quantity + quantity <= OrderLine.quantity,
                )
                .values(refunded_quantity=OrderLine.refunded_quantity + quantity)
                .returning(OrderLine.id)
                .execution_options(synchronize_session=False)
            )
            if line_id is None:
                raise Conflict(f"Product {product_id} of order {order.id} was refunded concurrently; try again")

    async def _refundable(self, order_id: int) -> Decimal:
        row = (await self.session.execute(select(Order.total, Order.refunded_total).where(Order.id == order_id))).one()
        return Decimal(row.total - row.refunded_total)

    async def subtract_refunded(self, order_id: int, amount: Decimal, lines: Mapping[int, int]) -> None:
        await self.session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(refunded_total=cents(Order.refunded_total) - to_cents(amount), updated_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )
        for product_id, quantity in lines.items():
            await self.session.execute(
                update(OrderLine)
                .where(OrderLine.order_id == order_id, OrderLine.product_id == product_id)
                .values(refunded_quantity=OrderLine.refunded_quantity - quantity)
                .execution_options(synchronize_session=False)
            )

    async def mark_refunded_if_complete(self, order_id: int) -> None:
        await self.session.execute(
            update(Order)
            .where(
                Order.id == order_id,
                cents(Order.refunded_total) >= cents(Order.total),
                Order.status.in_(PAID_STATUSES),
            )
            .values(status=OrderStatus.REFUNDED, updated_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )

    async def refresh_status(self, order: Order) -> None:
        await self.session.refresh(order, attribute_names=["status", "payment_status", "refunded_total", "updated_at"])

    async def sent_email(self, key: str) -> AnyRow | None:
        """The email's claim (``claimed_at``, ``sent_at``), or None if nobody claimed it yet."""
        return (await run_prebuilt(self.session, _SENT_EMAIL, {"email_key": key})).first()

    async def claim_email(self, key: str, now: datetime, stale_before: datetime) -> EmailClaim:
        """Claim the sending of an email, once whatever the concurrency.

        A first claim is one insert that does nothing when the key has a claim already
        (the common case is that statement alone). Then a claim older than
        ``stale_before`` (its worker died) is taken over (``take_over_email``).
        """
        claimed = await run_prebuilt(
            self.session, _CLAIM_EMAIL[self.session.get_bind().dialect.name], {"key": key, "claimed_at": now}
        )
        if claimed.first() is not None:
            return EmailClaim.OURS
        seen = await self.sent_email(key)
        if seen is not None and seen.sent_at is not None:
            return EmailClaim.SENT
        if seen is None or seen.claimed_at > stale_before:
            return EmailClaim.HELD  # (None: released in between; the next attempt claims it)
        return EmailClaim.OURS if await self.take_over_email(key, seen.claimed_at, now) else EmailClaim.HELD

    async def take_over_email(self, key: str, seen: datetime, now: datetime) -> bool:
        """Take over the unsent claim made at ``seen``: a compare-and-set on that time, so
        two attempts that both found the same stale claim cannot both win."""
        values = {"email_key": key, "seen": seen, "now": now}
        taken: CursorResult[tuple[()]] = await run_prebuilt(self.session, _TAKE_OVER_EMAIL, values)  # type: ignore[assignment]
        return taken.rowcount == 1

    async def release_email_claim(self, key: str, claimed_at: datetime) -> None:
        """Give up our unfinished claim (only ours: a later claim by another attempt stays)."""
        await self.session.execute(
            delete(SentEmail).where(
                SentEmail.key == key, SentEmail.claimed_at == claimed_at, SentEmail.sent_at.is_(None)
            )
        )

    async def mark_email_sent(self, key: str, now: datetime) -> None:
        await run_prebuilt(self.session, _MARK_EMAIL_SENT, {"email_key": key, "now": now})
