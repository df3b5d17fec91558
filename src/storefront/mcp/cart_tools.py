"""Cart tools: the caller's own cart, read and changed through the same service as
``/api/v1/cart`` (one cart per user; nobody reaches another user's)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from storefront.cart.dependencies import cart_service
from storefront.cart.schemas import MAX_QUANTITY, CartRead, cart_read
from storefront.checkout.dependencies import check_out
from storefront.checkout.schemas import CheckoutRead
from storefront.mcp.identity import caller
from storefront.mcp.params import Id, IdempotencyKey
from storefront.payments.dependencies import payment_service
from storefront.runtime import Runtime

ProductId = Annotated[Id, Field(description="The product's id (from search_products or get_product).")]
Quantity = Annotated[
    int, Field(ge=0, le=MAX_QUANTITY, description="How many (1 to 100) the cart should hold; 0 removes the product.")
]


def register_cart_tools(server: MCPServer[Any], state: Runtime) -> None:
    # get_cart writes on first use (it creates the empty cart), so it is not read-only,
    # and its unit of work takes SQLite's write lock like GET /cart does.
    @server.tool(annotations=ToolAnnotations(idempotent_hint=True, open_world_hint=False))
    async def get_cart() -> CartRead:
        """Your cart at current prices: items, shipping address and option, subtotal,
        shipping, tax and total (money as decimal strings, in `currency`)."""
        user = caller().user
        async with state.db.session_scope() as session:
            return cart_read(await cart_service(state, session).view(user.id))

    @server.tool(annotations=ToolAnnotations(idempotent_hint=True, open_world_hint=False))
    async def set_cart_item(product_id: ProductId, quantity: Quantity) -> CartRead:
        """Set how many of a product your cart holds (0 takes it out) and get the cart back.
        Stock is not reserved until checkout. An unknown or archived product fails with NOT_FOUND."""
        user = caller().user
        async with state.db.session_scope() as session:
            service = cart_service(state, session)
            if quantity == 0:
                return cart_read(await service.remove_item(user.id, product_id))
            return cart_read(await service.set_item(user.id, product_id, quantity))

    @server.tool(annotations=ToolAnnotations(open_world_hint=True))
    async def checkout(idempotency_key: IdempotencyKey = None) -> CheckoutRead:
        """Check your cart out: needs items, a shipping address and a shipping option (set them
        over HTTP or with set_cart_item). Stock is taken now; the order waits in `pending_payment`
        until it is paid (the shop's payment provider; `payment` says how) or it expires.
        Fails with CONFLICT naming what is missing, NOT_SHIPPABLE or OUT_OF_STOCK."""
        user = caller().user
        answer = await check_out(
            state, lambda session: payment_service(state, session, state.payments), user.id, idempotency_key
        )
        return answer.model
