"""Order bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from storefront.core.params import MAX_ID
from storefront.core.schemas import MoneyOut, Strict


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
    status: str
    items: list[OrderLineRead]
    total: MoneyOut
    created_at: datetime
    updated_at: datetime


class StatusChange(Strict):
    status: Literal["placed", "shipped", "delivered", "cancelled"]
