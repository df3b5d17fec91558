"""Payment use cases inside the caller's unit of work: start a payment for a checkout's
order, capture a manual one, apply a provider's events once.

The order changes (placed when paid, payment failed) are the orders domain's,
through its service; this domain writes only its own tables. Starting a payment
calls the provider inside checkout's unit of work, after the order is written: a
provider that fails rolls the checkout back (no stock taken), and the idempotency
key ``order-<id>`` makes the SDK's retries (and ours) the same PaymentIntent.
Refunds, which must not hold the order's row while the provider answers, are in
``refunds.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.models import to_cents
from storefront.orders.errors import OrderNotPayable
from storefront.orders.models import Order
from storefront.orders.service import OrderService
from storefront.payments.errors import NothingToCapture
from storefront.payments.models import Payment, PaymentEvent, PaymentState, Refund, RefundState
from storefront.payments.providers import ManualProvider, PaymentProvider
from storefront.payments.repository import PaymentRepository

log = structlog.get_logger("storefront.payments")


@dataclass(frozen=True, slots=True)
class StartedPayment:
    """A stored payment as checkout answers it (the contract's ``payment`` object)."""

    id: int
    provider: str
    status: str
    amount: Decimal
    client_secret: str | None  # shown to the buyer once, never stored


def _intent_of(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    intent = data.get("object") if isinstance(data, dict) else None
    return intent if isinstance(intent, dict) else {}


class PaymentService:
    def __init__(self, session: AsyncSession, provider: PaymentProvider, orders: OrderService) -> None:
        self.payments = PaymentRepository(session)
        self.provider = provider
        self.orders = orders

    async def start(self, order_id: int, amount: Decimal, currency: str) -> StartedPayment:
        """Start paying for an order just written (checkout): ``pending`` until paid."""
        metadata = {"order_id": str(order_id)}
        started = await self.provider.start(amount, currency, key=f"order-{order_id}", metadata=metadata)
        payment = Payment(order_id=order_id, provider=self.provider.name, amount=amount, currency=currency)
        payment.reference = started.reference
        await self.payments.add(payment)
        log.info(
            "payment_started",
            payment_id=payment.id,
            order_id=order_id,
            provider=payment.provider,
            provider_status=started.status,
        )
        return StartedPayment(payment.id, payment.provider, payment.status, amount, started.client_secret)

    async def capture(self, order_id: int) -> Order:
        """An admin records the money of a manual payment: the order is placed."""
        order = await self.orders.get(order_id, None)  # 404 first
        payment = await self.payments.latest_for_order(order_id)
        if payment is None:
            raise NothingToCapture(order_id, "it was not bought through checkout")
        if payment.provider != ManualProvider.name:
            raise NothingToCapture(order_id, f"it is paid through {payment.provider}, which reports it by webhook")
        # The conditional UPDATE first: of two concurrent captures, the second waits here
        # for the first, then finds the payment succeeded and is refused.
        if not await self.payments.settle(payment.id, PaymentState.SUCCEEDED, unless=[PaymentState.SUCCEEDED]):
            raise NothingToCapture(order_id, "it was captured already")
        return await self.orders.mark_paid(order.id)  # OrderNotPayable (409, all rolled back) once expired

    async def apply_stripe_event(self, event: dict[str, Any]) -> str:
        """Apply a verified Stripe event once; the outcome is stored with it and logged.

        The event's row and its effect commit together: a replay (or a concurrent
        duplicate) fails on the UNIQUE (provider, event id) and changes nothing."""
        kind = str(event.get("type", ""))
        intent = _intent_of(event)
        reference = intent.get("id")
        payment = await self.payments.by_reference("stripe", reference) if isinstance(reference, str) else None
        record = PaymentEvent(
            provider="stripe",
            event_id=event["id"],
            type=kind[:100],
            payment_id=payment.id if payment else None,
            payload=event,
            outcome="received",
        )
        if not await self.payments.record_event(record):
            log.info("payment_event_duplicate", provider="stripe", event_id=event["id"], type=kind)
            return "duplicate: applied before"
        if payment is None:
            outcome = "ignored: no payment of ours has this intent"
        elif kind == "payment_intent.succeeded":
            outcome = await self._succeeded(payment, intent)
        elif kind == "payment_intent.payment_failed":
            changed = await self.payments.settle(
                payment.id, PaymentState.FAILED, unless=[PaymentState.SUCCEEDED, PaymentState.FAILED]
            )
            if changed:
                await self.orders.payment_failed(payment.order_id)
            outcome = "payment failed" if changed else "ignored: the payment had already settled"
        else:
            outcome = f"ignored: {kind or 'no type'}"
        record.outcome = outcome
        log.info("payment_event", provider="stripe", event_id=event["id"], type=kind, outcome=outcome)
        return outcome

    async def _succeeded(self, payment: Payment, intent: dict[str, Any]) -> str:
        received = intent.get("amount_received", intent.get("amount"))
        currency = str(intent.get("currency", "")).upper()
        if received != to_cents(payment.amount) or currency != payment.currency.upper():
            # Acknowledged (a 4xx would only make Stripe send it again), flagged, not applied.
            await self.payments.settle(payment.id, PaymentState.DISPUTED, unless=[PaymentState.SUCCEEDED])
            log.warning(
                "payment_amount_mismatch",
                payment_id=payment.id,
                order_id=payment.order_id,
                expected=to_cents(payment.amount),
                expected_currency=payment.currency,
                received=received,
                currency=currency,
            )
            return "refused: the amount or currency does not match the order"
        if not await self.payments.settle(payment.id, PaymentState.SUCCEEDED, unless=[PaymentState.SUCCEEDED]):
            return "ignored: the payment had already succeeded"
        try:
            await self.orders.mark_paid(payment.order_id)
        except OrderNotPayable:
            return await self._refund_late_payment(payment)
        return "order placed"

    async def _refund_late_payment(self, payment: Payment) -> str:
        """Paid after the reservation expired (or the order was cancelled): the stock has
        gone back, so the money goes back too, and the refund is stored for audit.

        Inside the event's transaction on purpose: if Stripe does not answer, the 503
        rolls the event back and Stripe delivers it again; the key makes that the same
        refund at Stripe."""
        result = await self.provider.refund(payment.reference, payment.amount, key=f"late-payment-{payment.id}")
        refund = Refund(
            order_id=payment.order_id,
            payment_id=payment.id,
            provider=payment.provider,
            amount=payment.amount,
            lines=[],
            restock=False,
            reason="paid after the order expired or was cancelled",
            status=RefundState.SUCCEEDED if result.succeeded else RefundState.FAILED,
            reference=result.reference,
        )
        await self.payments.add(refund)
        log.warning(
            "payment_after_expiry_refunded",
            payment_id=payment.id,
            order_id=payment.order_id,
            refund_id=refund.id,
            provider_status=result.status,
        )
        if not result.succeeded:
            return f"refund refused by the provider ({result.status}): an admin must return the money"
        return "refunded: the order had expired or was cancelled"
