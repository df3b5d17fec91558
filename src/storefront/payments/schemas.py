"""Refund bodies and what the API shows of payments and refunds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool

from storefront.core.params import MAX_ID
from storefront.core.schemas import MoneyOut, PositiveMoneyIn, Strict
from storefront.fields import NOT_BOOLEAN, free_text
from storefront.payments.models import Refund


class RefundLineIn(Strict):
    product_id: Annotated[int, Field(ge=1, le=MAX_ID), NOT_BOOLEAN]
    quantity: Annotated[int, Field(ge=1, le=10_000), NOT_BOOLEAN]


class RefundCreate(Strict):
    amount: Annotated[PositiveMoneyIn | None, Field(description="Default: the lines' value, or all that is left.")] = (
        None
    )
    lines: Annotated[list[RefundLineIn], Field(max_length=500)] = []
    restock: StrictBool = False
    reason: Annotated[str | None, free_text(500)] = None


class RefundLineRead(BaseModel):
    product_id: int
    quantity: int


class RefundRead(BaseModel):
    id: int
    amount: MoneyOut
    lines: list[RefundLineRead]
    restock: bool
    reason: str | None
    created_at: datetime


class WebhookReceipt(BaseModel):
    received: bool
    outcome: str


def refund_read(refund: Refund) -> RefundRead:
    return RefundRead(
        id=refund.id,
        amount=refund.amount,
        lines=[RefundLineRead(product_id=line["product_id"], quantity=line["quantity"]) for line in refund.lines],
        restock=refund.restock,
        reason=refund.reason,
        created_at=refund.created_at,
    )
