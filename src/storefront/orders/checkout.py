"""Placing an order: limits, stock, price snapshot, and the jobs that follow it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.cache import CatalogCache
from storefront.config import Settings
from storefront.core.db import after_commit
from storefront.core.errors import InvalidInput
from storefront.core.jobs import JobQueue
from storefront.orders import inventory
from storefront.orders.models import Order, OrderLine, OrderStatus
from storefront.orders.schemas import OrderCreate

CONFIRMATION_EMAIL = "orders.confirmation_email"
ORDER_NOTIFICATION = "orders.notify_placed"
LOW_STOCK = "catalog.low_stock"


@dataclass(frozen=True, slots=True)
class OrderLimits:
    max_lines: int
    max_quantity_per_line: int
    max_units: int

    @classmethod
    def from_settings(cls, settings: Settings) -> OrderLimits:
        return cls(settings.order_max_lines, settings.order_max_quantity_per_line, settings.order_max_units)


def wanted_quantities(data: OrderCreate, limits: OrderLimits) -> dict[int, int]:
    """Quantities per product (repeated products merged), within the limits."""
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


class Checkout:
    def __init__(self, session: AsyncSession, jobs: JobQueue, cache: CatalogCache, limits: OrderLimits) -> None:
        self.session = session
        self.jobs = jobs
        self.cache = cache
        self.limits = limits

    async def place(self, user_id: int, data: OrderCreate) -> Order:
        wanted = wanted_quantities(data, self.limits)
        taken = await inventory.take(self.session, wanted)
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
        order = Order(
            user_id=user_id, status=OrderStatus.PLACED, total=sum(line.line_total for line in lines), lines=lines
        )
        self.session.add(order)
        await self.session.flush()

        # Written in this transaction: they exist exactly when the order does.
        self.jobs.enqueue(self.session, CONFIRMATION_EMAIL, {"order_id": order.id})
        self.jobs.enqueue(self.session, ORDER_NOTIFICATION, {"order_id": order.id})
        for item in taken:
            if item.crossed_low_stock:
                self.jobs.enqueue(self.session, LOW_STOCK, {"product_id": item.product_id, "order_id": order.id})
        # Cached products show stock: forget them once the new stock is committed.
        touched = [(item.product_id, item.slug) for item in taken]
        after_commit(self.session, lambda: self.cache.invalidate(touched))
        return order
