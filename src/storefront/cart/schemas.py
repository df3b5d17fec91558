"""Cart bodies, and the mapping from a cart's view to what the API shows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from storefront.cart.views import CartView
from storefront.core.params import MAX_ID
from storefront.core.schemas import MoneyOut, Strict
from storefront.fields import NOT_BOOLEAN, CountryCode, Text, one_line
from storefront.shipping.schemas import ShippingOptionRead

MAX_QUANTITY = 100  # per line (the contract's bound)

# A phone number as people write them; the rule is in the JSON schema too (fields.Text).
PHONE = Text(
    32,
    min_length=1,
    shape=r"\+?[0-9][0-9 ()./-]*",
    shape_message="digits, spaces and + ( ) . / - only, e.g. +49 30 1234567",
)


class ShippingAddress(Strict):
    """Where a cart ships to."""

    name: Annotated[str, one_line(100)]
    line1: Annotated[str, one_line(200)]
    line2: Annotated[str, one_line(200)] | None = None
    city: Annotated[str, one_line(100)]
    postal_code: Annotated[str, one_line(20)]
    country: CountryCode
    phone: Annotated[str, PHONE] | None = None


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
    quantity: Annotated[
        int, Field(ge=1, le=MAX_QUANTITY, description="Sets the line's quantity (1 to 100)."), NOT_BOOLEAN
    ]


class ShippingOptionChoice(Strict):
    id: Annotated[int, Field(ge=1, le=MAX_ID, description="One of GET /cart/shipping-options."), NOT_BOOLEAN]


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
