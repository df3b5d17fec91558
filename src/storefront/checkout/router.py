"""The checkout route: the caller's cart becomes an order waiting for its payment."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from storefront.checkout.dependencies import check_out
from storefront.checkout.schemas import CheckoutRead
from storefront.core.dependencies import API_PREFIX, StateDep
from storefront.identity.dependencies import CurrentUser
from storefront.orders.dependencies import IdempotencyKeyHeader
from storefront.payments.dependencies import ProviderDep, payment_service

router = APIRouter(prefix=f"{API_PREFIX}/cart", tags=["cart"])


@router.post(
    "/checkout",
    status_code=status.HTTP_201_CREATED,
    response_model=CheckoutRead,
    responses={
        404: {"description": "A product in the cart was archived"},
        409: {"description": "CONFLICT (what is missing), NOT_SHIPPABLE, OUT_OF_STOCK, IDEMPOTENCY_IN_PROGRESS"},
        503: {"description": "The payment provider did not answer; nothing was taken"},
    },
)
async def checkout(
    user: CurrentUser, state: StateDep, provider: ProviderDep, idempotency_key: IdempotencyKeyHeader = None
) -> Response:
    answer = await check_out(state, lambda session: payment_service(state, session, provider), user.id, idempotency_key)
    headers = {"Location": f"{API_PREFIX}/orders/{answer.model.order.id}"}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(answer.body, status_code=answer.status, media_type="application/json", headers=headers)
