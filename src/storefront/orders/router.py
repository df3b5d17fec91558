"""Order routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from storefront.core.dependencies import API_PREFIX, StateDep
from storefront.core.pagination import Page, PageParamsDep
from storefront.core.params import MAX_ID, ResourceId
from storefront.identity.dependencies import AdminUser, CurrentUser
from storefront.identity.models import Role
from storefront.orders.dependencies import IdempotencyKeyHeader, OrderServiceDep, place_order
from storefront.orders.models import OrderStatus
from storefront.orders.schemas import OrderCreate, OrderRead, StatusChange, order_read

router = APIRouter(prefix=f"{API_PREFIX}/orders", tags=["orders"])

INVALID_TRANSITION: dict[int | str, dict[str, Any]] = {
    409: {"description": "INVALID_TRANSITION: the order's status does not allow it"}
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderRead,
    responses={
        404: {"description": "A product of the order does not exist"},
        409: {"description": "OUT_OF_STOCK, or IDEMPOTENCY_IN_PROGRESS"},
    },
)
async def create_order(
    body: OrderCreate, user: CurrentUser, state: StateDep, idempotency_key: IdempotencyKeyHeader = None
) -> Response:
    answer = await place_order(state, user.id, body, idempotency_key)
    headers = {"Location": f"{API_PREFIX}/orders/{answer.model.id}"}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(answer.body, status_code=answer.status, media_type="application/json", headers=headers)


def _owner_scope(user: CurrentUser) -> int | None:
    # Someone else's order is a 404, exactly like one that does not exist.
    return None if user.role == Role.ADMIN else user.id


@router.get("", response_model=Page[OrderRead], summary="Own orders; admins see all")
async def list_orders(
    user: CurrentUser,
    service: OrderServiceDep,
    page: PageParamsDep,
    state: StateDep,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Admins only: one user's orders.")] = None,
    order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
) -> object:
    owner = user_id if user.role == Role.ADMIN else user.id
    keyset = state.cursors.keyset("orders", page)
    rows = await service.list(owner, order_status, keyset)
    return state.cursors.id_page("orders", rows, keyset, order_read)


@router.get("/{order_id}", response_model=OrderRead)
async def read_order(order_id: ResourceId, user: CurrentUser, service: OrderServiceDep) -> object:
    return order_read(await service.get(order_id, _owner_scope(user)))


@router.post(
    "/{order_id}/cancel",
    response_model=OrderRead,
    summary="Cancel a placed order (owner or admin)",
    responses=INVALID_TRANSITION,
)
async def cancel_order(order_id: ResourceId, user: CurrentUser, service: OrderServiceDep) -> object:
    return order_read(await service.cancel(order_id, _owner_scope(user)))


@router.post(
    "/{order_id}/status",
    response_model=OrderRead,
    summary="Move an order along its lifecycle (admin)",
    responses=INVALID_TRANSITION,
)
async def change_status(order_id: ResourceId, body: StatusChange, _: AdminUser, service: OrderServiceDep) -> object:
    return order_read(await service.change_status(order_id, body.status))
