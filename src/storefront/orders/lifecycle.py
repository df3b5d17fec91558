"""Order status changes: placed → shipped → delivered, and placed → cancelled.

Every change is a conditional UPDATE on the status it starts from, so of two
concurrent changes only one wins, and a cancellation gives stock back once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.cache import CatalogCache
from storefront.core.db import after_commit
from storefront.orders import inventory
from storefront.orders.errors import InvalidTransition, OrderNotFound
from storefront.orders.models import Order, OrderStatus
from storefront.orders.repository import OrderRepository

ALLOWED: dict[str, set[str]] = {
    OrderStatus.PLACED: {OrderStatus.SHIPPED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED},
}


class OrderLifecycle:
    def __init__(self, session: AsyncSession, cache: CatalogCache) -> None:
        self.session = session
        self.orders = OrderRepository(session)
        self.cache = cache

    async def change_status(self, order_id: int, target: str, owner_id: int | None = None) -> Order:
        order = await self.orders.get(order_id, owner_id)
        if order is None:
            raise OrderNotFound(order_id)
        current = order.status
        if target not in ALLOWED.get(current, set()):
            raise InvalidTransition(current, target)
        changed = await self.session.scalar(
            update(Order)
            .where(Order.id == order_id, Order.status == current)
            .values(status=target, updated_at=datetime.now(UTC))
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
        if changed is None:  # someone else changed it between our read and our write
            raise InvalidTransition(current, target)
        if target == OrderStatus.CANCELLED:
            touched = await inventory.give_back(self.session, self._quantities(order))
            after_commit(self.session, lambda: self.cache.invalidate(touched))
        await self.session.refresh(order, attribute_names=["status", "updated_at"])
        return order

    async def cancel(self, order_id: int, owner_id: int | None) -> Order:
        return await self.change_status(order_id, OrderStatus.CANCELLED, owner_id)

    @staticmethod
    def _quantities(order: Order) -> dict[int, int]:
        quantities: dict[int, int] = {}
        for line in order.lines:
            quantities[line.product_id] = quantities.get(line.product_id, 0) + line.quantity
        return quantities
