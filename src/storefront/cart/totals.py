"""The one place a cart's money is added up: for the cart read now, and for checkout.

Pure and exact: ``Decimal`` amounts in, ``Decimal`` amounts out, no I/O.

- subtotal = the sum of unit price * quantity;
- shipping_total = the chosen rate's price, 0 once the subtotal reaches its ``free_over``
  (no rate chosen, or nothing in the cart: 0);
- tax_total = (subtotal + shipping_total) * the country's rate, rounded half up to the cent;
- total = subtotal + shipping_total + tax_total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from storefront.shipping.quote import ZERO, RateTerms, price_for

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A cart line at the product's current title and price."""

    product_id: int
    title: str
    unit_price: Decimal
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    total: Decimal


def subtotal_of(lines: Iterable[PricedLine]) -> Decimal:
    return sum((line.line_total for line in lines), ZERO)


def compute_totals(lines: Iterable[PricedLine], shipping: RateTerms | None, tax_rate: Decimal) -> Totals:
    """The totals of ``lines`` shipped at ``shipping`` (None: not chosen) and taxed at ``tax_rate``.

    An empty cart ships nothing, so it costs nothing, whatever option it keeps for next time."""
    lines = list(lines)
    subtotal = subtotal_of(lines)
    shipping_total = price_for(shipping, subtotal) if shipping is not None and lines else ZERO
    tax_total = ((subtotal + shipping_total) * tax_rate).quantize(CENT, rounding=ROUND_HALF_UP)
    return Totals(subtotal, shipping_total, tax_total, subtotal + shipping_total + tax_total)
