"""Order bodies, and the mapping from an order to what the API shows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from storefront.core.params import MAX_ID
from storefront.core.schemas import MoneyOut, Strict
from storefront.orders.models import Order, OrderStatus


class OrderItemIn(Strict):
    product_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    quantity: Annotated[int, Field(ge=1, description="Capped per line (see the settings).")]


class OrderCreate(Strict):
    items: Annotated[list[OrderItemIn], Field(min_length=1)]


class OrderLineRead(BaseModel):
    product_id: int
    title: str
    unit_price: MoneyOut
    quantity: int
    line_total: MoneyOut


class OrderRead(BaseModel):
    id: int
    status: OrderStatus
    items: list[OrderLineRead]
    total: MoneyOut
    created_at: datetime
    updated_at: datetime


class StatusChange(Strict):
    status: OrderStatus


def order_read(order: Order) -> OrderRead:
    """An order with its lines loaded, as the API shows it."""
    return OrderRead(
        id=order.id,
        status=OrderStatus(order.status),
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
