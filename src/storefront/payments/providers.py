"""One small interface for payment providers, and its two implementations.

``manual`` (the embedded default) never leaves the process: an admin records the
money when it arrives (bank transfer, cash on delivery). ``stripe`` goes through
the official SDK: a PaymentIntent per order, confirmed in the buyer's browser
with its client secret, and reported back by signed webhooks; refunds through
the Refunds API. Every Stripe call has a timeout and is retried by the SDK with
our idempotency key, so a retry never charges or refunds twice. Any failure of
the provider is a ``PaymentProviderUnavailable`` (503): its text never reaches
the client, only the log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import stripe
import structlog

from storefront.config import Settings
from storefront.core.models import to_cents
from storefront.payments.errors import InvalidWebhook, PaymentProviderUnavailable

WEBHOOK_TOLERANCE_SECONDS = 300
# Refund states the Stripe API answers that mean the money is not going back.
_REFUND_REFUSED = frozenset({"failed", "canceled"})

log = structlog.get_logger("storefront.payments")


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    """A payment the provider started: its id there, the buyer's secret, its state there."""

    reference: str | None
    client_secret: str | None  # for the buyer's browser; never stored
    status: str  # the provider's own word (Stripe: requires_payment_method, …), kept for the log


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    reference: str | None
    succeeded: bool  # accepted by the provider (Stripe may still settle it later: "pending")
    status: str  # the provider's own word, kept for the log


class PaymentProvider(Protocol):
    """What the shop asks of a payment provider; every call is idempotent under ``key``."""

    name: str

    async def start(self, amount: Decimal, currency: str, key: str, metadata: Mapping[str, str]) -> ProviderPayment: ...

    async def refund(self, reference: str | None, amount: Decimal, key: str) -> ProviderRefund: ...

    async def aclose(self) -> None: ...


class ManualProvider:
    name = "manual"

    async def start(self, amount: Decimal, currency: str, key: str, metadata: Mapping[str, str]) -> ProviderPayment:
        return ProviderPayment(reference=None, client_secret=None, status="pending")

    async def refund(self, reference: str | None, amount: Decimal, key: str) -> ProviderRefund:
        # The money goes back the way it came, outside the shop; the record is ours.
        return ProviderRefund(reference=None, succeeded=True, status="succeeded")

    async def aclose(self) -> None:
        return None


class StripeProvider:
    name = "stripe"

    def __init__(self, api_key: str, webhook_secret: str, api_base: str | None, timeout: float) -> None:
        # One httpx client for the process: its connections are reused, and every
        # request (connect, read, write) is bounded by ``timeout``.
        self._http = stripe.HTTPXClient(timeout=timeout)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=2,  # on network errors, 409s and 5xx, with the same idempotency key
        )
        self._webhook_secret = webhook_secret

    async def start(self, amount: Decimal, currency: str, key: str, metadata: Mapping[str, str]) -> ProviderPayment:
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params={
                    "amount": to_cents(amount),
                    "currency": currency.lower(),
                    "metadata": dict(metadata),
                    "automatic_payment_methods": {"enabled": True},
                },
                options={"idempotency_key": key},
            )
        except stripe.StripeError as exc:
            raise self._unavailable("start", key, exc) from exc
        return ProviderPayment(reference=intent.id, client_secret=intent.client_secret, status=intent.status)

    async def refund(self, reference: str | None, amount: Decimal, key: str) -> ProviderRefund:
        if reference is None:  # a Stripe payment always has its intent id; never a client's doing
            raise ValueError("a Stripe refund needs the PaymentIntent id")
        try:
            refund = await self._client.v1.refunds.create_async(
                params={"payment_intent": reference, "amount": to_cents(amount)}, options={"idempotency_key": key}
            )
        except stripe.StripeError as exc:
            raise self._unavailable("refund", key, exc) from exc
        status = refund.status or "pending"
        return ProviderRefund(reference=refund.id, succeeded=status not in _REFUND_REFUSED, status=status)

    def _unavailable(self, call: str, key: str, exc: stripe.StripeError) -> PaymentProviderUnavailable:
        # The client gets a plain 503; what Stripe said goes to the log (no secrets in it).
        log.warning(
            "payment_provider_failed",
            provider=self.name,
            call=call,
            idempotency_key=key,
            error=type(exc).__name__,
            http_status=exc.http_status,
            message=exc.user_message,
        )
        return PaymentProviderUnavailable(self.name)

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
    """The configured provider, built once per process (the settings refuse stripe without its keys)."""
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
