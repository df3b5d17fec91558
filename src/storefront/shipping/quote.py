"""What a rate costs for a given subtotal: the one free-shipping rule, shared by the
options a cart is offered and the cart's totals (``cart/totals.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

ZERO = Decimal("0.00")


class RateTerms(Protocol):
    """What pricing needs of a rate (a ``ShippingRate`` row has it)."""

    @property
    def price(self) -> Decimal: ...

    @property
    def free_over(self) -> Decimal | None: ...


def price_for(rate: RateTerms, subtotal: Decimal) -> Decimal:
    """The rate's price, or 0 once ``subtotal`` reaches its ``free_over`` (inclusive)."""
    if rate.free_over is not None and subtotal >= rate.free_over:
        return ZERO
    return rate.price


@dataclass(frozen=True, slots=True)
class ShippingQuote:
    """One option as a cart sees it: priced for the cart's subtotal."""

    id: int
    name: str
    price: Decimal
    min_days: int
    max_days: int


class QuotableRate(RateTerms, Protocol):
    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def min_days(self) -> int: ...

    @property
    def max_days(self) -> int: ...


def quote(rate: QuotableRate, subtotal: Decimal) -> ShippingQuote:
    return ShippingQuote(rate.id, rate.name, price_for(rate, subtotal), rate.min_days, rate.max_days)


def quote_all(rates: Iterable[QuotableRate], subtotal: Decimal) -> list[ShippingQuote]:
    return [quote(rate, subtotal) for rate in rates]
