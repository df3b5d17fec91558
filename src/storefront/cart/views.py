"""What a read of a cart gives its callers (the HTTP and MCP edges, and checkout)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from storefront.cart.models import Cart
from storefront.cart.totals import PricedLine, Totals
from storefront.shipping.quote import ShippingQuote


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2, upper case
    phone: str | None


@dataclass(frozen=True, slots=True)
class CartView:
    """A cart priced now: live products at their current prices, and the totals.

    ``shipping_option`` is the chosen rate if it still serves the address's country
    (priced for this subtotal); otherwise None, and shipping counts as 0.
    """

    cart: Cart
    lines: list[PricedLine]
    address: Address | None
    shipping_option: ShippingQuote | None
    tax_rate: Decimal  # the address country's rate (0 without an address)
    totals: Totals
    currency: str
