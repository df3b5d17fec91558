"""Payment routes: the providers' webhooks, manual capture and refunds (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, status

from storefront.core.dependencies import API_PREFIX, StateDep
from storefront.core.params import ResourceId
from storefront.identity.dependencies import AdminUser
from storefront.orders.schemas import OrderRead, order_read
from storefront.payments.dependencies import PaymentServiceDep, ProviderDep, payment_service, refund
from storefront.payments.errors import UnknownWebhook
from storefront.payments.providers import StripeProvider
from storefront.payments.schemas import RefundCreate, RefundRead, WebhookReceipt, refund_read

router = APIRouter(tags=["payments"])


@router.post(
    f"{API_PREFIX}/payments/webhooks/{{provider}}",
    response_model=WebhookReceipt,
    summary="Events from a payment provider (Stripe), verified by signature and applied once",
    responses={400: {"description": "Missing, forged or stale signature"}, 404: {"description": "Unknown provider"}},
)
async def provider_webhook(
    provider: str,
    request: Request,
    state: StateDep,
    configured: ProviderDep,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookReceipt:
    if provider != "stripe" or not isinstance(configured, StripeProvider):
        raise UnknownWebhook(provider)
    # Verified before the unit of work opens: an unsigned request (anyone can send one)
    # never takes a connection or, on SQLite, the write lock.
    event = configured.verify(await request.body(), stripe_signature)
    async with state.db.session_scope() as session:
        outcome = await payment_service(state, session, configured).apply_stripe_event(event)
    # 200 for every verified event, applied or not: a non-2xx only makes Stripe send it again.
    return WebhookReceipt(received=True, outcome=outcome)


@router.post(
    f"{API_PREFIX}/orders/{{order_id}}/payments/capture",
    response_model=OrderRead,
    tags=["orders"],
    summary="Record a manual payment (bank transfer, cash on delivery): the order is placed",
    responses={409: {"description": "Captured already, not a manual payment, or the order expired"}},
)
async def capture_payment(order_id: ResourceId, _: AdminUser, service: PaymentServiceDep) -> object:
    return order_read(await service.capture(order_id))


@router.post(
    f"{API_PREFIX}/orders/{{order_id}}/refunds",
    response_model=RefundRead,
    status_code=status.HTTP_201_CREATED,
    tags=["orders"],
    summary="Refund an order in full or by lines, optionally restocking; never more than was paid",
    responses={
        409: {"description": "More than is left to refund, an unpaid order, or the provider refused"},
        503: {"description": "The payment provider did not answer; nothing was refunded or counted"},
    },
)
async def refund_order(
    order_id: ResourceId, body: RefundCreate, _: AdminUser, state: StateDep, provider: ProviderDep
) -> object:
    # No request-wide unit of work: a refund through Stripe commits one before the
    # provider's call and one after it, so no transaction waits on Stripe.
    return refund_read(await refund(state, provider, order_id, body))
