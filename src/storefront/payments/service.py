"""Payment use cases inside the caller's unit of work: start a payment for a checkout's
order, capture a manual one, apply a provider's events once, refund.

The order changes (placed when paid, refunded amounts, stock back) are the orders
domain's, through its service; this domain writes only its own tables. Calls to a
remote provider happen inside the unit of work, after the order's row is locked
(refunds) or written (checkout): a provider that fails rolls everything back, and
its idempotency key makes the retry safe. On PostgreSQL that holds the order's row
for at most the provider timeout; only concurrent changes of that one order wait.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog

from storefront.core.models import to_cents
from storefront.orders.errors import OrderNotPayable
from storefront.orders.models import Order
from storefront.orders.service import OrderService
from storefront.payments.errors import NothingToCapture
from storefront.payments.models import Payment, PaymentEvent, PaymentState, Refund
from storefront.payments.providers import ManualProvider, PaymentProvider
from storefront.payments.repository import PaymentRepository
from storefront.payments.schemas import RefundCreate

log = structlog.get_logger("storefront.payments")


@dataclass(frozen=True, slots=True)
class StartedPayment:
    id: int
    provider: str
    status: str
    amount: Decimal
    client_secret: str | None  # shown to the buyer once, never stored


class PaymentService:
    def __init__(self, payments: PaymentRepository, provider: PaymentProvider, orders: OrderService) -> None:
        self.payments = payments
        self.provider = provider
        self.orders = orders

    async def start(self, order_id: int, amount: Decimal, currency: str) -> StartedPayment:
        payment = Payment(order_id=order_id, provider=self.provider.name, amount=amount, currency=currency)
        await self.payments.add(payment)
        started = await self.provider.start(order_id, amount, currency, key=f"storefront-order-{order_id}")
        payment.reference = started.reference
        await self.payments.add(payment)
        return StartedPayment(payment.id, payment.provider, payment.status, amount, started.client_secret)

    async def capture(self, order_id: int) -> Order:
        """An admin records the money of a manual payment: the order is placed."""
        payment = await self.payments.latest_for_order(order_id)
        order = await self.orders.get(order_id, None)
        if payment is None:
            raise NothingToCapture(order_id, "it was not bought through checkout")
        if payment.provider != ManualProvider.name:
            raise NothingToCapture(order_id, f"it is paid through {payment.provider}, which reports it by webhook")
        if payment.status == PaymentState.SUCCEEDED:
            raise NothingToCapture(order_id, "it was captured already")
        await self.orders.mark_paid(order.id)  # OrderNotPayable (409) once cancelled or expired
        await self.payments.settle(payment.id, PaymentState.SUCCEEDED, unless=[PaymentState.SUCCEEDED])
        return await self.orders.get(order_id, None)

    async def apply_stripe_event(self, event: dict[str, Any]) -> str:
        """Apply a verified Stripe event once; the outcome is stored with it and logged."""
        kind = str(event.get("type", ""))
        intent = (event.get("data") or {}).get("object") or {}
        reference = intent.get("id") if isinstance(intent, dict) else None
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
            await self.payments.settle(payment.id, PaymentState.DISPUTED, unless=[PaymentState.SUCCEEDED])
            log.warning(
                "payment_amount_mismatch",
                payment_id=payment.id,
                expected=to_cents(payment.amount),
                received=received,
                currency=currency,
            )
            return "refused: the amount or currency does not match the order"
        if not await self.payments.settle(payment.id, PaymentState.SUCCEEDED, unless=[PaymentState.SUCCEEDED]):
            return "ignored: the payment had already succeeded"
        try:
            await self.orders.mark_paid(payment.order_id)
        except OrderNotPayable:
            # Paid after the reservation expired: the stock is gone back, so the money goes back too.
            await self.provider.refund(payment.reference, payment.amount, key=f"storefront-expired-{payment.id}")
            log.warning("payment_after_expiry_refunded", payment_id=payment.id, order_id=payment.order_id)
            return "refunded: the order had expired or was cancelled"
        return "order placed"

    async def refund(self, order_id: int, data: RefundCreate) -> Refund:
        lines = Counter[int]()
        for line in data.lines:  # a product listed twice counts once, with both quantities
            lines[line.product_id] += line.quantity
        reserved = await self.orders.reserve_refund(order_id, data.amount, dict(lines))
        payment = await self.payments.latest_for_order(order_id)
        provider = self.provider if payment is not None and payment.provider == self.provider.name else None
        reference = None
        if payment is not None and payment.provider != ManualProvider.name:
            if provider is None:
                raise NothingToCapture(order_id, f"its payment is with {payment.provider}, not configured here")
            # Keyed by the refunded total this refund reaches: unique to it, and the same on a retry.
            key = f"storefront-refund-{order_id}-{reserved.refunded_after_cents}"
            reference = (await provider.refund(payment.reference, reserved.amount, key)).reference
        if data.restock:
            await self.orders.restock(order_id, reserved.lines)
        await self.orders.settle_refund(order_id)
        refund = Refund(
            order_id=order_id,
            payment_id=payment.id if payment else None,
            provider=payment.provider if payment else "manual",
            amount=reserved.amount,
            lines=[{"product_id": pid, "quantity": qty} for pid, qty in sorted(reserved.lines.items())],
            restock=data.restock,
            reason=data.reason,
            reference=reference,
        )
        await self.payments.add(refund)
        return refund
