"""Order tools: customers see and cancel their own orders; admins see all and move them along."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from storefront.core.pagination import Page
from storefront.core.params import MAX_ID
from storefront.mcp.identity import caller, owner_scope, require_admin
from storefront.mcp.params import Cursor, Id, IdempotencyKey, Limit, page
from storefront.orders import dependencies as edge
from storefront.orders.dependencies import order_service
from storefront.orders.models import OrderStatus
from storefront.orders.schemas import OrderCreate, OrderItemIn, OrderRead, order_read
from storefront.runtime import Runtime

OrderId = Annotated[Id, Field(description="The order's id.")]


def register_order_tools(server: MCPServer[Any], state: Runtime) -> None:
    @server.tool(annotations=ToolAnnotations(open_world_hint=False))
    async def place_order(
        items: Annotated[
            list[OrderItemIn], Field(min_length=1, description="What to buy: product ids and quantities.")
        ],
        idempotency_key: IdempotencyKey = None,
    ) -> OrderRead:
        """Buy products as the signed-in user. Stock is taken atomically: if any product lacks
        stock the order fails with OUT_OF_STOCK (details say what is available) and nothing is taken."""
        user = caller().user
        answer = await edge.place_order(state, user.id, OrderCreate(items=items), idempotency_key)
        return answer.model

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def get_order(order_id: OrderId) -> OrderRead:
        """One order with its lines and total (your own; admins: any)."""
        user = caller().user
        async with state.db.session_scope(immediate=False) as session:
            return order_read(await order_service(state, session).get(order_id, owner_scope(user)))

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def list_orders(
        status: Annotated[OrderStatus | None, Field(description="Only orders in this status.")] = None,
        user_id: Annotated[
            int | None, Field(ge=1, le=MAX_ID, description="Admins only: one user's orders (ignored for others).")
        ] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[OrderRead]:
        """Your orders, newest first (admins: everyone's, or one user's)."""
        user = caller().user
        owner = owner_scope(user)
        if owner is None:
            owner = user_id
        params = page(limit, cursor)
        async with state.db.session_scope(immediate=False) as session:
            keyset = state.cursors.keyset("orders", params)
            rows = await order_service(state, session).list(owner, status, keyset)
            return state.cursors.id_page("orders", rows, keyset, order_read)

    @server.tool(annotations=ToolAnnotations(destructive_hint=True, open_world_hint=False))
    async def cancel_order(order_id: OrderId) -> OrderRead:
        """Cancel an order that is still `placed` (your own; admins: any); its stock is given back."""
        user = caller().user
        async with state.db.session_scope() as session:
            return order_read(await order_service(state, session).cancel(order_id, owner_scope(user)))

    @server.tool(annotations=ToolAnnotations(open_world_hint=False))
    async def update_order_status(
        order_id: OrderId,
        status: Annotated[OrderStatus, Field(description="placed → shipped → delivered, or placed → cancelled.")],
    ) -> OrderRead:
        """Admin only: move an order along its lifecycle; any other move fails with INVALID_TRANSITION."""
        require_admin(caller().user)
        async with state.db.session_scope() as session:
            return order_read(await order_service(state, session).change_status(order_id, status))
