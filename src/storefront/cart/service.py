"""Cart use cases: each user's one cart, changed and read inside the caller's unit of work.

Every read prices the lines afresh from the catalog (``Inventory.live_products``):
a price change shows at once, and an archived product drops out of the items and
the totals. Every change first locks the cart's row, so concurrent changes to one
cart apply one after the other. The totals come from ``cart/totals.py`` only.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.cart.errors import CartFull, CartProductNotFound, NoShippingAddress, UnknownShippingOption
from storefront.cart.models import Cart, CartItem
from storefront.cart.repository import CartRepository
from storefront.cart.schemas import ShippingAddress
from storefront.cart.totals import PricedLine, compute_totals, subtotal_of
from storefront.cart.views import Address, CartView
from storefront.catalog.inventory import Inventory
from storefront.core.models import utcnow
from storefront.shipping.quote import ShippingQuote, quote, quote_all
from storefront.shipping.service import ShippingService
from storefront.taxes.service import NO_TAX, TaxService


class CartService:
    def __init__(
        self,
        session: AsyncSession,
        inventory: Inventory,
        shipping: ShippingService,
        taxes: TaxService,
        *,
        currency: str,
        max_lines: int,
    ) -> None:
        self.carts = CartRepository(session)
        self.inventory = inventory
        self.shipping = shipping
        self.taxes = taxes
        self.currency = currency
        self.max_lines = max_lines

    async def view(self, user_id: int, *, lock: bool = False) -> CartView:
        """The user's cart priced now, created empty on first use. ``lock``: hold the
        cart's row until the unit of work ends (checkout reads it this way)."""
        return await self._view(await self._cart(user_id, lock=lock))

    async def set_item(self, user_id: int, product_id: int, quantity: int) -> CartView:
        """Put ``quantity`` of a live product in the cart (replacing the line's quantity)."""
        cart = await self._cart(user_id, lock=True)
        if product_id not in await self.inventory.live_products([product_id]):
            raise CartProductNotFound(product_id)
        line = await self.carts.line(cart.id, product_id)
        if line is not None:
            await self.carts.set_quantity(cart, line, quantity, utcnow())
        elif await self.carts.count_lines(cart.id) >= self.max_lines:
            raise CartFull(self.max_lines)
        else:
            await self.carts.add_line(cart, product_id, quantity, utcnow())
        return await self._view(cart)

    async def remove_item(self, user_id: int, product_id: int) -> CartView:
        """Take a product out of the cart (nothing happens if it is not in it)."""
        cart = await self._cart(user_id, lock=True)
        await self.carts.remove_lines(cart, utcnow(), product_id)
        return await self._view(cart)

    async def quantities(self, user_id: int) -> dict[int, int]:
        """Every line's product and quantity, archived products included (checkout refuses those)."""
        cart = await self._cart(user_id, lock=True)
        return {line.product_id: line.quantity for line in await self.carts.lines(cart.id)}

    async def empty(self, user_id: int) -> None:
        """Remove every line (after checkout); the address and shipping choice stay."""
        cart = await self._cart(user_id, lock=True)
        await self.carts.remove_lines(cart, utcnow())

    async def set_address(self, user_id: int, data: ShippingAddress) -> CartView:
        """Ship to ``data``; a chosen option that does not serve its country is cleared."""
        cart = await self._cart(user_id, lock=True)
        address = Address(**data.model_dump())
        rate_id = cart.shipping_rate_id
        if rate_id is not None and rate_id not in {rate.id for rate in await self.shipping.rates_for(address.country)}:
            rate_id = None
        await self.carts.set_address(cart, address, rate_id, utcnow())
        return await self._view(cart)

    async def shipping_options(self, user_id: int) -> list[ShippingQuote]:
        """The options for the address's country, priced for the cart's subtotal."""
        cart = await self.carts.for_user(user_id)
        address = _address(cart) if cart is not None else None
        if cart is None or address is None:
            raise NoShippingAddress()
        subtotal = subtotal_of(await self._priced_lines(cart))
        return quote_all(await self.shipping.rates_for(address.country), subtotal)

    async def choose_option(self, user_id: int, rate_id: int) -> CartView:
        cart = await self._cart(user_id, lock=True)
        address = _address(cart)
        if address is None:
            raise NoShippingAddress()
        if rate_id not in {rate.id for rate in await self.shipping.rates_for(address.country)}:
            raise UnknownShippingOption(rate_id, address.country)
        await self.carts.choose_rate(cart, rate_id, utcnow())
        return await self._view(cart)

    async def _cart(self, user_id: int, *, lock: bool) -> Cart:
        cart = await self.carts.for_user(user_id, lock=lock)
        if cart is None:
            await self.carts.create(user_id)
            cart = await self.carts.for_user(user_id, lock=lock)
        if cart is None:  # created just now, by us or by the concurrent request that won
            raise RuntimeError(f"the cart of user {user_id} vanished after its creation")
        return cart

    async def _priced_lines(self, cart: Cart) -> list[PricedLine]:
        lines: Sequence[CartItem] = await self.carts.lines(cart.id)
        products = await self.inventory.live_products([line.product_id for line in lines])
        # A product archived since it was added is left out (its line stays, unseen).
        return [
            PricedLine(line.product_id, product.title, product.price, line.quantity)
            for line in lines
            if (product := products.get(line.product_id)) is not None
        ]

    async def _view(self, cart: Cart) -> CartView:
        lines = await self._priced_lines(cart)
        address = _address(cart)
        rate = None
        tax_rate = NO_TAX
        if address is not None:
            # Only a rate that still serves the country counts (an admin may have moved it since).
            rates = await self.shipping.rates_for(address.country)
            rate = next((rate for rate in rates if rate.id == cart.shipping_rate_id), None)
            tax_rate = await self.taxes.rate_for(address.country)
        totals = compute_totals(lines, rate, tax_rate)
        option = quote(rate, totals.subtotal) if rate is not None else None
        return CartView(cart, lines, address, option, tax_rate, totals, self.currency)


def _address(cart: Cart) -> Address | None:
    if cart.address_country is None:
        return None
    return Address(
        name=cart.address_name or "",
        line1=cart.address_line1 or "",
        line2=cart.address_line2,
        city=cart.address_city or "",
        postal_code=cart.address_postal_code or "",
        country=cart.address_country,
        phone=cart.address_phone,
    )
