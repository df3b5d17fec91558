"""One cart per user and one line per product, whatever the concurrency: real
concurrent requests on committed data (the MCP tests' served app, which cleans up),
and the lost creation race replayed deterministically."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from storefront.cart.dependencies import cart_service
from storefront.cart.models import Cart, CartItem
from storefront.cart.schemas import ShippingAddress
from storefront.cart.service import CartService
from tests.cart.helpers import address
from tests.helpers import Api, bearer
from tests.mcp.conftest import Store


def _service(api: Api, session: AsyncSession) -> CartService:
    return cart_service(api.state, session)


async def test_concurrent_first_uses_make_one_cart_with_one_line(store: Store, engine: AsyncEngine) -> None:
    product = await store.product("Cart race kettle", price="3.00")
    user, token = await store.customer()
    headers = bearer(token)
    client = store.api.client
    reads = await asyncio.gather(*(client.get("/api/v1/cart", headers=headers) for _ in range(12)))
    assert [response.status_code for response in reads] == [200] * 12
    assert len({response.json()["id"] for response in reads}) == 1

    path = f"/api/v1/cart/items/{product['id']}"
    writes = await asyncio.gather(*(client.put(path, json={"quantity": n}, headers=headers) for n in range(1, 9)))
    assert [response.status_code for response in writes] == [200] * 8
    async with engine.connect() as connection:
        carts = (await connection.scalars(select(Cart.id).where(Cart.user_id == user["id"]))).all()
        assert len(carts) == 1
        lines = await connection.execute(select(CartItem.quantity).where(CartItem.cart_id == carts[0]))
        quantities = lines.scalars().all()
    assert len(quantities) == 1  # a product at most once, whatever the interleaving
    final = (await client.get("/api/v1/cart", headers=headers)).json()
    assert [item["quantity"] for item in final["items"]] == quantities


async def test_a_cart_created_by_a_concurrent_request_is_read_not_duplicated(
    api: Api, connection: AsyncConnection
) -> None:
    """The losing side of the creation race, made deterministic: this request read "no
    cart", then another request's cart committed before this one's insert."""
    user, _ = await api.user_tokens()
    async with api.state.db.session_scope() as session:
        winner = await _service(api, session).view(user["id"])  # the other request

    async with api.state.db.session_scope() as session:
        service = _service(api, session)
        read_cart = service.carts.for_user
        reads = 0

        async def stale_first_read(user_id: int, *, lock: bool = False) -> Cart | None:
            nonlocal reads
            reads += 1
            return None if reads == 1 else await read_cart(user_id, lock=lock)

        service.carts.for_user = stale_first_read  # type: ignore[method-assign]
        view = await service.view(user["id"])
        assert reads == 2  # the stale read, then the winner's cart after the refused insert
        # The unit of work goes on after the failed insert (only its SAVEPOINT rolled back).
        await service.set_address(user["id"], ShippingAddress.model_validate(address("FR")))

    assert view.cart.id == winner.cart.id
    rows = await connection.execute(select(Cart.id, Cart.address_country).where(Cart.user_id == user["id"]))
    assert [tuple(row) for row in rows] == [(winner.cart.id, "FR")]
