"""One small interface for payment providers, and its two implementations.

``manual`` (the embedded default) never leaves the process: an admin records the
money when it arrives (bank transfer, cash on delivery). ``stripe`` goes through
the official SDK: a PaymentIntent per order, confirmed in the buyer's browser
with its client secret, and reported back by signed webhooks; refunds through
the Refunds API. Every Stripe call has a timeout and is retried by the SDK with
an idempotency key, so a retry never charges or refunds twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import stripe

from storefront.config import Settings
from storefront.core.models import to_cents
from storefront.payments.errors import InvalidWebhook, PaymentProviderUnavailable

WEBHOOK_TOLERANCE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    reference: str | None
    client_secret: str | None


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    reference: str | None
    status: str


class PaymentProvider(Protocol):
    name: str

    async def start(self, order_id: int, amount: Decimal, currency: str, key: str) -> ProviderPayment: ...

    async def refund(self, reference: str | None, amount: Decimal, key: str) -> ProviderRefund: ...

    async def aclose(self) -> None: ...


class ManualProvider:
    name = "manual"

    async def start(self, order_id: int, amount: Decimal, currency: str, key: str) -> ProviderPayment:
        return ProviderPayment(reference=None, client_secret=None)

    async def refund(self, reference: str | None, amount: Decimal, key: str) -> ProviderRefund:
        # The money goes back the way it came, outside the shop; the record is ours.
        return ProviderRefund(reference=None, status="succeeded")

    async def aclose(self) -> None:
        return None


class StripeProvider:
    name = "stripe"

    def __init__(self, api_key: str, webhook_secret: str, api_base: str | None, timeout: float) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=2,
        )
        self._webhook_secret = webhook_secret

    async def start(self, order_id: int, amount: Decimal, currency: str, key: str) -> ProviderPayment:
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params={
                    "amount": to_cents(amount),
                    "currency": currency.lower(),
                    "metadata": {"order_id": str(order_id)},
                    "automatic_payment_methods": {"enabled": True},
                },
                options={"idempotency_key": key},
            )
        except stripe.StripeError as exc:
            raise PaymentProviderUnavailable(self.name) from exc
        return ProviderPayment(reference=intent.id, client_secret=intent.client_secret)

    async def refund(self, reference: str | None, amount: Decimal, key: str) -> ProviderRefund:
        if reference is None:
            raise PaymentProviderUnavailable(self.name)
        try:
            refund = await self._client.v1.refunds.create_async(
                params={"payment_intent": reference, "amount": to_cents(amount)}, options={"idempotency_key": key}
            )
        except stripe.StripeError as exc:
            raise PaymentProviderUnavailable(self.name) from exc
        return ProviderRefund(reference=refund.id, status=refund.status or "pending")

    def verify(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event in a webhook, if Stripe signed it with our secret within the tolerance."""
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode(), signature or "", self._webhook_secret, WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook("the Stripe-Signature header does not match the payload, or is too old") from exc
        except UnicodeDecodeError as exc:
            raise InvalidWebhook("the payload is not UTF-8") from exc
        try:
            event = json.loads(payload)
        except ValueError as exc:
            raise InvalidWebhook("the payload is not JSON") from exc
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise InvalidWebhook("the payload is not a Stripe event")
        return event

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # the SDK leaves it untyped


def build_provider(settings: Settings) -> PaymentProvider:
    if settings.payment_provider == "stripe":
        if settings.stripe_api_key is None or settings.stripe_webhook_secret is None:
            raise ValueError("the stripe provider needs STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET")
        return StripeProvider(
            settings.stripe_api_key.get_secret_value(),
            settings.stripe_webhook_secret.get_secret_value(),
            settings.stripe_api_base,
            settings.stripe_timeout_seconds,
        )
    return ManualProvider()
