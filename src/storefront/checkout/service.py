"""Checkout as one unit of work: re-price, take stock, create the order waiting for
its payment, start the payment, empty the cart.

Everything here commits together or not at all: an out-of-stock line, a country
the shop does not ship to or a provider that refuses to start the payment leaves
the cart, the stock and the orders as they were. Stock is taken through the
catalog's inventory (a fixed product order, one conditional UPDATE per product,
the cart's lines being one per product), and the prices charged are the ones read
by the very statements that took the stock.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from storefront.cart.service import CartService
from storefront.cart.totals import PricedLine, compute_totals
from storefront.catalog.inventory import Inventory
from storefront.checkout.errors import CheckoutIncomplete, NotShippable, ShippingOptionGone
from storefront.orders.models import Order
from storefront.orders.service import OrderService, Sale
from storefront.shipping.quote import quote
from storefront.shipping.service import ShippingService


class StartedPayment(Protocol):
    """A payment as checkout answers it (the contract's ``payment`` object)."""

    @property
    def id(self) -> int: ...
    @property
    def provider(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def client_secret(self) -> str | None: ...  # for the buyer's browser to pay with; never stored


class PaymentStarter(Protocol):
    """The payments domain, as checkout needs it: start paying for an order just written."""

    async def start(self, order_id: int, amount: Decimal, currency: str) -> StartedPayment: ...


@dataclass(frozen=True, slots=True)
class CheckedOut:
    order: Order
    payment: StartedPayment


class CheckoutService:
    def __init__(
        self,
        carts: CartService,
        shipping: ShippingService,
        inventory: Inventory,
        orders: OrderService,
        payments: PaymentStarter,
        *,
        reservation: timedelta,
    ) -> None:
        self.carts = carts
        self.shipping = shipping
        self.inventory = inventory
        self.orders = orders
        self.payments = payments
        self.reservation = reservation

    async def checkout(self, user_id: int) -> CheckedOut:
        view = await self.carts.view(user_id, lock=True)  # concurrent checkouts of one cart queue here
        wanted = await self.carts.quantities(user_id)
        missing = [
            name for name, absent in (("items", not wanted), ("shipping_address", view.address is None)) if absent
        ]
        if missing or view.address is None:
            raise CheckoutIncomplete(missing)
        country = view.address.country
        rates = await self.shipping.rates_for(country)
        if not rates:  # said before "choose an option": there is none to choose
            raise NotShippable(country)
        if view.cart.shipping_rate_id is None:
            raise CheckoutIncomplete(["shipping_option"])
        rate = next((rate for rate in rates if rate.id == view.cart.shipping_rate_id), None)
        if rate is None:
            raise ShippingOptionGone(country)

        taken = await self.inventory.take(wanted)  # archived → 404, short → 409 OUT_OF_STOCK
        lines = [PricedLine(item.product_id, item.title, item.unit_price, item.quantity) for item in taken]
        totals = compute_totals(lines, rate, view.tax_rate)
        option = quote(rate, totals.subtotal)
        sale = Sale(
            shipping_address=asdict(view.address),
            shipping_option={**asdict(option), "price": f"{option.price:.2f}"},
            shipping_total=totals.shipping_total,
            tax_rate=view.tax_rate,
            tax_total=totals.tax_total,
            total=totals.total,
            expires_at=datetime.now(UTC) + self.reservation,
        )
        order = await self.orders.create_pending(user_id, taken, sale)
        payment = await self.payments.start(order.id, totals.total, view.currency)
        await self.carts.empty(user_id)
        return CheckedOut(order, payment)
