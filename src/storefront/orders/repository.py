"""Order queries. No commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storefront.orders.models import Order
from storefront.orders.schemas import OrderLineRead, OrderRead


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, order_id: int, owner_id: int | None) -> Order | None:
        """An order with its lines; ``owner_id`` limits it to that user's orders."""
        query = select(Order).options(selectinload(Order.lines)).where(Order.id == order_id)
        if owner_id is not None:
            query = query.where(Order.user_id == owner_id)
        return await self.session.scalar(query)

    async def list(
        self, user_id: int | None, status: str | None, before_id: int | None, limit: int, offset: int | None
    ) -> Sequence[Order]:
        query = select(Order).options(selectinload(Order.lines)).order_by(Order.id.desc()).limit(limit)
        if user_id is not None:
            query = query.where(Order.user_id == user_id)
        if status is not None:
            query = query.where(Order.status == status)
        if before_id is not None:
            query = query.where(Order.id < before_id)
        if offset:
            query = query.offset(offset)
        return (await self.session.scalars(query)).all()


def order_read(order: Order) -> OrderRead:
    return OrderRead(
        id=order.id,
        status=order.status,
        items=[
            OrderLineRead(
                product_id=line.product_id,
                title=line.title,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
            )
            for line in order.lines
        ],
        total=order.total,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )
