"""Order routes."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status

from storefront.catalog.cache import CatalogCache
from storefront.core.dependencies import API_PREFIX, SessionDep, StateDep
from storefront.core.pagination import Page, PageParamsDep
from storefront.core.params import MAX_ID, ResourceId
from storefront.identity.dependencies import AdminUser, CurrentUser
from storefront.identity.models import Role
from storefront.orders.models import OrderStatus
from storefront.orders.repository import order_read
from storefront.orders.schemas import OrderCreate, OrderRead, StatusChange
from storefront.orders.service import OrderQueries, OrderService

router = APIRouter(prefix=f"{API_PREFIX}/orders", tags=["orders"])

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Retry-safe: the same key and body return the first response.",
    ),
]


async def get_order_service(state: StateDep) -> OrderService:
    return OrderService.for_state(state)


async def get_order_queries(session: SessionDep, state: StateDep) -> OrderQueries:
    return OrderQueries(session, CatalogCache(state.cache))


OrderServiceDep = Annotated[OrderService, Depends(get_order_service)]
OrderQueriesDep = Annotated[OrderQueries, Depends(get_order_queries)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderRead,
    responses={409: {"description": "OUT_OF_STOCK, or IDEMPOTENCY_IN_PROGRESS"}},
)
async def place_order(
    body: OrderCreate, user: CurrentUser, service: OrderServiceDep, idempotency_key: IdempotencyKeyHeader = None
) -> Response:
    outcome = await service.place(user.id, body, idempotency_key)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    if outcome.status == status.HTTP_201_CREATED:
        headers["Location"] = f"{API_PREFIX}/orders/{json.loads(outcome.body)['id']}"
    return Response(outcome.body, status_code=outcome.status, media_type="application/json", headers=headers)


@router.get("", response_model=Page[OrderRead], summary="Own orders; admins see all")
async def list_orders(
    user: CurrentUser,
    queries: OrderQueriesDep,
    page: PageParamsDep,
    state: StateDep,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Admins only: one user's orders.")] = None,
    order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
) -> object:
    owner = user_id if user.role == Role.ADMIN else user.id
    before = state.cursors.after_id("orders", page)
    rows = await queries.list(owner, order_status, before, page.limit + 1, page.offset)
    return state.cursors.id_page("orders", rows, page, order_read)


def _owner_scope(user: CurrentUser) -> int | None:
    # Someone else's order is a 404, exactly like one that does not exist.
    return None if user.role == Role.ADMIN else user.id


@router.get("/{order_id}", response_model=OrderRead)
async def read_order(order_id: ResourceId, user: CurrentUser, queries: OrderQueriesDep) -> object:
    return order_read(await queries.get(order_id, _owner_scope(user)))


@router.post("/{order_id}/cancel", response_model=OrderRead, summary="Cancel a placed order (owner or admin)")
async def cancel_order(order_id: ResourceId, user: CurrentUser, queries: OrderQueriesDep) -> object:
    return order_read(await queries.cancel(order_id, _owner_scope(user)))


@router.post("/{order_id}/status", response_model=OrderRead, summary="Move an order along its lifecycle (admin)")
async def change_status(order_id: ResourceId, body: StatusChange, _: AdminUser, queries: OrderQueriesDep) -> object:
    return order_read(await queries.change_status(order_id, body.status))
