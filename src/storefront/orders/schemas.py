"""Order bodies, and the mapping from an order to what the API shows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from storefront.core.params import MAX_ID
from storefront.core.schemas import MoneyOut, Strict
from storefront.fields import NOT_BOOLEAN
from storefront.orders.models import Order, OrderStatus, PaymentStatus


class OrderItemIn(Strict):
    product_id: Annotated[int, Field(ge=1, le=MAX_ID), NOT_BOOLEAN]
    quantity: Annotated[int, Field(ge=1, description="Capped per line (see the settings)."), NOT_BOOLEAN]


class OrderCreate(Strict):
    items: Annotated[list[OrderItemIn], Field(min_length=1)]


class OrderLineRead(BaseModel):
    product_id: int
    title: str
    unit_price: MoneyOut
    quantity: int
    line_total: MoneyOut


class ShippingAddressRead(BaseModel):
    name: str
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    country: str
    phone: str | None = None


class OrderRead(BaseModel):
    id: int
    status: OrderStatus
    items: list[OrderLineRead]
    total: MoneyOut
    shipping_address: ShippingAddressRead | None
    shipping_total: MoneyOut
    tax_total: MoneyOut
    refunded_total: MoneyOut
    payment_status: PaymentStatus | None
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
        shipping_address=(
            ShippingAddressRead.model_validate(order.shipping_address) if order.shipping_address else None
        ),
        shipping_total=order.shipping_total,
        tax_total=order.tax_total,
        refunded_total=order.refunded_total,
        payment_status=PaymentStatus(order.payment_status) if order.payment_status else None,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )
