"""Cart bodies, and the mapping from a cart's view to what the API shows."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from storefront.cart.views import CartView
from storefront.core.params import MAX_ID
from storefront.core.schemas import MoneyOut, Strict
from storefront.fields import ONE_LINE, CountryCode
from storefront.shipping.schemas import ShippingOptionRead

MAX_QUANTITY = 100  # per line (the contract's bound)

_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]*")


def _phone(value: str) -> str:
    if not _PHONE.fullmatch(value):
        raise ValueError("digits, spaces and + ( ) . / - only, e.g. +49 30 1234567")
    return value


def _text(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


class ShippingAddress(Strict):
    """Where a cart ships to."""

    name: Annotated[str, _text(100), ONE_LINE]
    line1: Annotated[str, _text(200), ONE_LINE]
    line2: Annotated[str, _text(200), ONE_LINE] | None = None
    city: Annotated[str, _text(100), ONE_LINE]
    postal_code: Annotated[str, _text(20), ONE_LINE]
    country: CountryCode
    phone: Annotated[str, _text(32), AfterValidator(_phone)] | None = None


class AddressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str
    phone: str | None


class CartItemIn(Strict):
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY, description="Sets the line's quantity (1 to 100).")]


class ShippingOptionChoice(Strict):
    id: Annotated[int, Field(ge=1, le=MAX_ID, description="One of GET /cart/shipping-options.")]


class CartLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: int
    title: str
    unit_price: MoneyOut
    quantity: int
    line_total: MoneyOut


class CartRead(BaseModel):
    id: int
    items: list[CartLineRead]
    shipping_address: AddressRead | None
    shipping_option: ShippingOptionRead | None
    subtotal: MoneyOut
    shipping_total: MoneyOut
    tax_total: MoneyOut
    total: MoneyOut
    currency: str
    updated_at: datetime


def cart_read(view: CartView) -> CartRead:
    """A cart as the API shows it: current prices, live products only, the totals."""
    return CartRead(
        id=view.cart.id,
        items=[CartLineRead.model_validate(line) for line in view.lines],
        shipping_address=AddressRead.model_validate(view.address) if view.address else None,
        shipping_option=ShippingOptionRead.model_validate(view.shipping_option) if view.shipping_option else None,
        subtotal=view.totals.subtotal,
        shipping_total=view.totals.shipping_total,
        tax_total=view.totals.tax_total,
        total=view.totals.total,
        currency=view.currency,
        updated_at=view.cart.updated_at,
    )
