"""Cart queries through the unit of work's session. No commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from storefront.cart.models import Cart, CartItem
from storefront.cart.views import Address
from storefront.core.repository import Repository


class CartRepository(Repository):
    async def for_user(self, user_id: int, *, lock: bool = False) -> Cart | None:
        """The user's cart; ``lock`` holds its row until the unit of work ends (PostgreSQL
        ``FOR UPDATE``; SQLite's write lock is already held), so changes to one cart queue."""
        query = select(Cart).where(Cart.user_id == user_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def create(self, user_id: int) -> None:
        """Create the user's cart unless a concurrent unit of work just did.

        Inside a SAVEPOINT: the losing insert (unique ``user_id``) is undone alone, and
        the caller reads the winner's cart.
        """
        try:
            async with self.session.begin_nested():
                self.session.add(Cart(user_id=user_id))
        except IntegrityError:
            pass

    async def lines(self, cart_id: int) -> Sequence[CartItem]:
        """The cart's lines in the order they were first added."""
        return (
            await self.session.scalars(select(CartItem).where(CartItem.cart_id == cart_id).order_by(CartItem.id))
        ).all()

    async def line(self, cart_id: int, product_id: int) -> CartItem | None:
        return await self.session.scalar(
            select(CartItem).where(CartItem.cart_id == cart_id, CartItem.product_id == product_id)
        )

    async def count_lines(self, cart_id: int) -> int:
        return int(await self.session.scalar(select(func.count()).where(CartItem.cart_id == cart_id)) or 0)

    async def add_line(self, cart: Cart, product_id: int, quantity: int, now: datetime) -> None:
        self.session.add(CartItem(cart_id=cart.id, product_id=product_id, quantity=quantity))
        await self.touch(cart, now)

    async def set_quantity(self, cart: Cart, line: CartItem, quantity: int, now: datetime) -> None:
        line.quantity = quantity
        await self.touch(cart, now)

    async def remove_lines(self, cart: Cart, now: datetime, product_id: int | None = None) -> None:
        """Remove one product's line, or (``product_id`` None) every line."""
        statement = delete(CartItem).where(CartItem.cart_id == cart.id)
        if product_id is not None:
            statement = statement.where(CartItem.product_id == product_id)
        await self.session.execute(statement.execution_options(synchronize_session="fetch"))
        await self.touch(cart, now)

    async def touch(self, cart: Cart, now: datetime) -> None:
        """Write the cart's pending changes; its lines are rows of their own, so the cart's
        ``updated_at`` is moved by hand."""
        cart.updated_at = now
        await self.session.flush()

    async def set_address(self, cart: Cart, address: Address, rate_id: int | None, now: datetime) -> None:
        """Ship to ``address``, with ``rate_id`` the choice that remains (None: cleared)."""
        cart.address_name = address.name
        cart.address_line1 = address.line1
        cart.address_line2 = address.line2
        cart.address_city = address.city
        cart.address_postal_code = address.postal_code
        cart.address_country = address.country
        cart.address_phone = address.phone
        cart.shipping_rate_id = rate_id
        await self.touch(cart, now)

    async def choose_rate(self, cart: Cart, rate_id: int, now: datetime) -> None:
        cart.shipping_rate_id = rate_id
        await self.touch(cart, now)
