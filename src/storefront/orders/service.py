"""Order use cases inside the caller's unit of work: place, read, move along the
lifecycle, get paid, expire, refund.

Every status change is a conditional UPDATE on the status it starts from, so of
two concurrent changes only one wins, and a cancellation or an expiry gives the
stock back once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.inventory import Inventory, Taken
from storefront.config import Settings
from storefront.core.errors import InvalidInput
from storefront.core.jobs import JobQueue
from storefront.core.pagination import IdKeyset
from storefront.orders.errors import InvalidTransition, OrderNotFound, OrderNotPayable
from storefront.orders.models import Order, OrderLine, OrderStatus, PaymentStatus
from storefront.orders.refunds import RefundReserved, plan_refund
from storefront.orders.repository import OrderRepository
from storefront.orders.schemas import OrderCreate

CONFIRMATION_EMAIL = "orders.confirmation_email"
ORDER_NOTIFICATION = "orders.notify_placed"
LOW_STOCK = "catalog.low_stock"
SOLD_OUT = "catalog.sold_out"
EXPIRE_UNPAID = "orders.expire_unpaid"

ALLOWED: dict[OrderStatus, set[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: {OrderStatus.CANCELLED},  # placed only by a payment
    OrderStatus.PLACED: {OrderStatus.SHIPPED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED},
}


@dataclass(frozen=True, slots=True)
class OrderLimits:
    max_lines: int
    max_quantity_per_line: int
    max_units: int

    @classmethod
    def from_settings(cls, settings: Settings) -> OrderLimits:
        return cls(settings.order_max_lines, settings.order_max_quantity_per_line, settings.order_max_units)


@dataclass(frozen=True, slots=True)
class Sale:
    """What a checkout sold with its lines: copies kept on the order, whatever changes later."""

    shipping_address: dict[str, Any]
    shipping_option: dict[str, Any]
    shipping_total: Decimal
    tax_rate: Decimal
    tax_total: Decimal
    total: Decimal
    expires_at: datetime


def wanted_quantities(data: OrderCreate, limits: OrderLimits) -> dict[int, int]:
    """Quantities per product (a product listed twice is merged into one line), within the limits."""
    wanted: Counter[int] = Counter()
    for item in data.items:
        wanted[item.product_id] += item.quantity
    if len(wanted) > limits.max_lines:
        raise InvalidInput("items", f"at most {limits.max_lines} different products per order")
    for index, item in enumerate(data.items):
        if wanted[item.product_id] > limits.max_quantity_per_line:
            raise InvalidInput(f"items.{index}.quantity", f"at most {limits.max_quantity_per_line} per product")
    if sum(wanted.values()) > limits.max_units:
        raise InvalidInput("items", f"at most {limits.max_units} units per order")
    return dict(wanted)


def _lines(taken: Sequence[Taken]) -> list[OrderLine]:
    return [
        OrderLine(
            product_id=item.product_id,
            title=item.title,
            unit_price=item.unit_price,
            quantity=item.quantity,
            line_total=item.unit_price * item.quantity,
        )
        for item in taken
    ]


def _stock_alerts(taken: Sequence[Taken]) -> dict[str, list[int]]:
    # A product that sold out is announced as sold out, not also as low.
    return {
        "sold_out": [item.product_id for item in taken if item.sold_out],
        "low_stock": [item.product_id for item in taken if item.crossed_low_stock and not item.sold_out],
    }


class OrderService:
    def __init__(self, session: AsyncSession, inventory: Inventory, jobs: JobQueue, limits: OrderLimits) -> None:
        self.session = session
        self.orders = OrderRepository(session)
        self.inventory = inventory
        self.jobs = jobs
        self.limits = limits

    async def place(self, user_id: int, data: OrderCreate) -> Order:
        """A direct order (settled outside the shop): stock taken, price snapshot, placed at once."""
        taken = await self.inventory.take(wanted_quantities(data, self.limits))
        lines = _lines(taken)
        order = await self.orders.insert(
            Order(
                user_id=user_id,
                status=OrderStatus.PLACED,
                total=sum((line.line_total for line in lines), Decimal(0)),
                payment_status=None,
                lines=lines,
            )
        )
        await self._announce_placed(order, _stock_alerts(taken))
        return order

    async def create_pending(self, user_id: int, taken: Sequence[Taken], sale: Sale) -> Order:
        """A checkout's order: stock already taken, waiting for its payment until ``sale.expires_at``."""
        lines = _lines(taken)
        subtotal = sum((line.line_total for line in lines), Decimal(0))
        if subtotal + sale.shipping_total + sale.tax_total != sale.total:
            raise ValueError("checkout totals do not add up")  # a bug, never a client's doing
        order = await self.orders.insert(
            Order(
                user_id=user_id,
                status=OrderStatus.PENDING_PAYMENT,
                total=sale.total,
                shipping_address=sale.shipping_address,
                shipping_option=sale.shipping_option,
                shipping_total=sale.shipping_total,
                tax_rate=str(sale.tax_rate),
                tax_total=sale.tax_total,
                payment_status=PaymentStatus.PENDING,
                expires_at=sale.expires_at,
                stock_alerts=_stock_alerts(taken),
                lines=lines,
            )
        )
        # Deferred to the deadline; whichever worker claims it first cancels, once.
        await self.jobs.enqueue_many(self.session, [(EXPIRE_UNPAID, {"order_id": order.id})], run_at=sale.expires_at)
        return order

    async def _announce_placed(self, order: Order, alerts: Mapping[str, Sequence[int]]) -> None:
        # Written in this transaction: they exist exactly when the order is placed. The
        # notification's job carries what it says (a read of the order fewer per order).
        order_id = order.id
        placed = {
            "user_id": order.user_id,
            "total": f"{order.total:.2f}",
            "units": sum(line.quantity for line in order.lines),
        }
        jobs: list[tuple[str, dict[str, Any]]] = [
            (CONFIRMATION_EMAIL, {"order_id": order_id}),
            (ORDER_NOTIFICATION, {"order_id": order_id, **placed}),
        ]
        for name, key in ((LOW_STOCK, "low_stock"), (SOLD_OUT, "sold_out")):
            jobs += [(name, {"product_id": product_id, "order_id": order_id}) for product_id in alerts.get(key, ())]
        await self.jobs.enqueue_many(self.session, jobs)

    async def get(self, order_id: int, owner_id: int | None) -> Order:
        """An order; ``owner_id`` limits it to that user's (someone else's is a 404)."""
        order = await self.orders.get(order_id, owner_id)
        if order is None:
            raise OrderNotFound(order_id)
        return order

    async def list(self, owner_id: int | None, status: OrderStatus | None, keyset: IdKeyset) -> Sequence[Order]:
        return await self.orders.list(owner_id, status, keyset)

    async def change_status(self, order_id: int, target: OrderStatus, owner_id: int | None = None) -> Order:
        order = await self.get(order_id, owner_id)
        current = OrderStatus(order.status)
        if target not in ALLOWED.get(current, set()):
            raise InvalidTransition(current, target)
        changes: dict[str, Any] = {}
        if current == OrderStatus.PENDING_PAYMENT:
            changes["payment_status"] = None  # nothing was paid, and nothing will be
        if not await self.orders.move(order_id, current, target, **changes):
            raise InvalidTransition(current, target)  # someone else changed it between our read and write
        if target == OrderStatus.CANCELLED:
            await self.inventory.give_back(_quantities(order))
        await self.orders.refresh_status(order)
        return order

    async def cancel(self, order_id: int, owner_id: int | None) -> Order:
        return await self.change_status(order_id, OrderStatus.CANCELLED, owner_id)

    async def mark_paid(self, order_id: int) -> Order:
        """The payment succeeded: a pending order is placed and announced, once."""
        order = await self.get(order_id, None)
        if order.status == OrderStatus.PENDING_PAYMENT and await self.orders.move(
            order_id, OrderStatus.PENDING_PAYMENT, OrderStatus.PLACED, payment_status=PaymentStatus.PAID
        ):
            await self._announce_placed(order, order.stock_alerts or {})
            await self.orders.refresh_status(order)
            return order
        await self.orders.refresh_status(order)
        if order.payment_status == PaymentStatus.PAID:
            return order  # paid before (a duplicate capture or webhook): nothing more to do
        raise OrderNotPayable(order_id, order.status)

    async def payment_failed(self, order_id: int) -> None:
        """A payment attempt failed: the order keeps waiting (the customer may retry) until it expires."""
        await self.orders.set_payment_status(order_id, OrderStatus.PENDING_PAYMENT, PaymentStatus.FAILED)

    async def expire(self, order_id: int, now: datetime) -> bool:
        """Cancel an unpaid order past its deadline and give its stock back; False if nothing to do."""
        order = await self.orders.get(order_id, None)
        if order is None or order.status != OrderStatus.PENDING_PAYMENT:
            return False
        if order.expires_at is None or order.expires_at > now:
            return False
        if not await self.orders.move(
            order_id, OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED, payment_status=PaymentStatus.EXPIRED
        ):
            return False  # paid or cancelled in between: the winner decided
        await self.inventory.give_back(_quantities(order))
        return True

    async def reserve_refund(self, order_id: int, amount: Decimal | None, lines: Mapping[int, int]) -> RefundReserved:
        """Count a refund against what was paid, atomically: concurrent refunds cannot both pass."""
        order = await self.get(order_id, None)
        plan = plan_refund(order, amount, lines)
        await self.orders.add_refunded(order, plan.amount, plan.lines)
        return RefundReserved(plan.amount, plan.lines, order)

    async def release_refund(self, order_id: int, amount: Decimal, lines: Mapping[int, int]) -> None:
        """Undo a reservation whose provider refund failed."""
        await self.orders.subtract_refunded(order_id, amount, lines)

    async def settle_refund(self, order_id: int) -> Order:
        """After a refund went through: a fully refunded order becomes ``refunded``."""
        await self.orders.mark_refunded_if_complete(order_id)
        return await self.get(order_id, None)

    async def restock(self, order_id: int, lines: Mapping[int, int]) -> None:
        """Give refunded units back to stock."""
        await self.inventory.give_back({product_id: quantity for product_id, quantity in lines.items() if quantity})


def _quantities(order: Order) -> dict[int, int]:
    quantities: Counter[int] = Counter()
    for line in order.lines:
        quantities[line.product_id] += line.quantity
    return dict(quantities)
