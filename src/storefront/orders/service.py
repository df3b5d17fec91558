"""Order use cases inside the caller's unit of work: place, read, and move along the lifecycle.

Every status change is a conditional UPDATE on the status it starts from, so of
two concurrent changes only one wins, and a cancellation gives stock back once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.inventory import Inventory, Taken
from storefront.config import Settings
from storefront.core.errors import InvalidInput
from storefront.core.jobs import JobQueue
from storefront.core.pagination import IdKeyset
from storefront.orders.errors import InvalidTransition, OrderNotFound
from storefront.orders.models import Order, OrderLine, OrderStatus
from storefront.orders.repository import OrderRepository
from storefront.orders.schemas import OrderCreate

CONFIRMATION_EMAIL = "orders.confirmation_email"
ORDER_NOTIFICATION = "orders.notify_placed"
LOW_STOCK = "catalog.low_stock"

ALLOWED: dict[OrderStatus, set[OrderStatus]] = {
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


class OrderService:
    def __init__(self, session: AsyncSession, inventory: Inventory, jobs: JobQueue, limits: OrderLimits) -> None:
        self.session = session
        self.orders = OrderRepository(session)
        self.inventory = inventory
        self.jobs = jobs
        self.limits = limits

    async def place(self, user_id: int, data: OrderCreate) -> Order:
        """A direct order: stock taken, price snapshot, placed at once."""
        taken = await self.inventory.take(wanted_quantities(data, self.limits))
        lines = [
            OrderLine(
                product_id=item.product_id,
                title=item.title,
                unit_price=item.unit_price,
                quantity=item.quantity,
                line_total=item.unit_price * item.quantity,
            )
            for item in taken
        ]
        order = await self.orders.add(
            Order(user_id=user_id, status=OrderStatus.PLACED, total=sum(line.line_total for line in lines), lines=lines)
        )
        self._announce_placed(order, taken)
        return order

    def _announce_placed(self, order: Order, taken: Sequence[Taken]) -> None:
        # Written in this transaction: they exist exactly when the order does.
        self.jobs.enqueue(self.session, CONFIRMATION_EMAIL, {"order_id": order.id})
        self.jobs.enqueue(self.session, ORDER_NOTIFICATION, {"order_id": order.id})
        for item in taken:
            if item.crossed_low_stock:
                self.jobs.enqueue(self.session, LOW_STOCK, {"product_id": item.product_id, "order_id": order.id})

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
        if not await self.orders.move(order_id, current, target, datetime.now(UTC)):
            raise InvalidTransition(current, target)  # someone else changed it between our read and write
        if target == OrderStatus.CANCELLED:
            await self.inventory.give_back(_quantities(order))
        await self.orders.refresh_status(order)
        return order

    async def cancel(self, order_id: int, owner_id: int | None) -> Order:
        return await self.change_status(order_id, OrderStatus.CANCELLED, owner_id)


def _quantities(order: Order) -> dict[int, int]:
    quantities: Counter[int] = Counter()
    for line in order.lines:
        quantities[line.product_id] += line.quantity
    return dict(quantities)
