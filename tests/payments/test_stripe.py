"""Stripe end to end against a local server speaking the Stripe HTTP API: the intent,
signed webhooks (replayed, forged, stale, wrong amount, unknown intent, out of order),
a payment after expiry refunded, and a Stripe that does not answer at checkout."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from storefront.payments.models import Payment, PaymentEvent
from tests.checkout.helpers import CHECKOUT, confirmations, fill_cart
from tests.helpers import Api, assert_error
from tests.payments.helpers import WEBHOOK, check_out, deliver, order_of, stored_refunds
from tests.payments.stripe_server import FakeStripe, sign


async def _events(api: Api) -> list[tuple[str, int | None, str]]:
    """The stored events: type, payment, outcome."""
    async with api.state.db.session_scope() as session:
        events = (await session.scalars(select(PaymentEvent).order_by(PaymentEvent.id))).all()
        return [(event.type, event.payment_id, event.outcome) for event in events]


async def test_checkout_creates_an_intent_and_the_signed_webhook_places_the_order(
    stripe_api: Api, stripe_shop: dict[str, Any], stripe_server: tuple[FakeStripe, str]
) -> None:
    stripe, _ = stripe_server
    buyer, checkout = await check_out(stripe_api, stripe_shop)
    order, payment = checkout["order"], checkout["payment"]
    # 2 x 19.99 = 39.98 + 4.90 = 44.88; VAT 19% = 8.5272 -> 8.53; total 53.41.
    assert (payment["provider"], payment["status"], payment["amount"]) == ("stripe", "pending", "53.41")
    (intent,) = stripe.intents.values()
    assert payment["client_secret"] == intent["client_secret"]
    assert (intent["amount"], intent["currency"], intent["metadata"]) == (5341, "usd", {"order_id": str(order["id"])})
    assert stripe.requests[0][2] == f"order-{order['id']}"  # retries cannot create a second intent
    assert (await confirmations(stripe_api, order["id"]))[0] == 0

    succeeded = stripe.event("payment_intent.succeeded", intent["id"])
    response = await deliver(stripe_api, succeeded)
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "outcome": "order placed"}
    placed = await order_of(stripe_api, buyer, order["id"])
    assert (placed["status"], placed["payment_status"]) == ("placed", "paid")
    jobs, written = await confirmations(stripe_api, order["id"])
    assert jobs == 1
    assert written is not None

    # The same event again (Stripe retries): 200, and nothing happens twice.
    replay = await deliver(stripe_api, succeeded)
    assert replay.status_code == 200
    assert replay.json()["outcome"].startswith("duplicate")
    assert await confirmations(stripe_api, order["id"]) == (1, written)
    notifications = (await stripe_api.client.get("/api/v1/notifications", headers=buyer)).json()["items"]
    assert [item["kind"] for item in notifications] == ["order_placed"]

    # Every event is kept for audit, with what it did.
    payment_id = checkout["payment"]["id"]
    assert await _events(stripe_api) == [("payment_intent.succeeded", payment_id, "order placed")]


async def test_forged_stale_and_missing_signatures_are_refused(
    stripe_api: Api, stripe_shop: dict[str, Any], stripe_server: tuple[FakeStripe, str]
) -> None:
    stripe, _ = stripe_server
    buyer, checkout = await check_out(stripe_api, stripe_shop)
    (intent,) = stripe.intents.values()
    payload = stripe.event("payment_intent.succeeded", intent["id"])
    forged = await deliver(stripe_api, payload, sign(payload, secret="whsec_someone_else"))
    assert_error(forged, 400, "BAD_REQUEST")
    stale = await deliver(stripe_api, payload, sign(payload, timestamp=int(time.time()) - 600))
    assert_error(stale, 400, "BAD_REQUEST")
    tampered = await deliver(stripe_api, payload.replace(b"succeeded", b"succeedeD"), sign(payload))
    assert_error(tampered, 400, "BAD_REQUEST")
    missing = await stripe_api.client.post(WEBHOOK, content=payload, headers={"content-type": "application/json"})
    assert_error(missing, 400, "BAD_REQUEST")
    # The client cannot say it paid either: nothing moved, nothing was stored.
    order = await order_of(stripe_api, buyer, checkout["order"]["id"])
    assert (order["status"], order["payment_status"]) == ("pending_payment", "pending")
    assert await _events(stripe_api) == []


async def test_a_wrong_amount_places_nothing(
    stripe_api: Api, stripe_shop: dict[str, Any], stripe_server: tuple[FakeStripe, str]
) -> None:
    stripe, _ = stripe_server
    buyer, checkout = await check_out(stripe_api, stripe_shop)
    (intent,) = stripe.intents.values()
    response = await deliver(stripe_api, stripe.event("payment_intent.succeeded", intent["id"], amount=100))
    assert response.status_code == 200
    assert response.json()["outcome"].startswith("refused")
    order = await order_of(stripe_api, buyer, checkout["order"]["id"])
    assert order["status"] == "pending_payment"
    async with stripe_api.state.db.session_scope() as session:
        payment = await session.scalar(select(Payment).where(Payment.reference == intent["id"]))
        assert payment is not None
        assert payment.status == "amount_mismatch"
    assert await _events(stripe_api) == [("payment_intent.succeeded", payment.id, response.json()["outcome"])]
    assert (await confirmations(stripe_api, checkout["order"]["id"]))[0] == 0


async def test_an_unknown_intent_is_acknowledged_and_ignored(stripe_api: Api) -> None:
    payload = FakeStripe().event("payment_intent.succeeded", "pi_not_ours", amount=500)
    response = await deliver(stripe_api, payload)
    assert response.status_code == 200
    assert response.json()["outcome"].startswith("ignored")
    assert await _events(stripe_api) == [("payment_intent.succeeded", None, response.json()["outcome"])]


async def test_a_failure_after_success_changes_nothing_and_a_failure_first_is_recorded(
    stripe_api: Api, stripe_shop: dict[str, Any], stripe_server: tuple[FakeStripe, str]
) -> None:
    stripe, _ = stripe_server
    buyer, checkout = await check_out(stripe_api, stripe_shop)
    (intent,) = stripe.intents.values()
    order_id = checkout["order"]["id"]
    failed = await deliver(stripe_api, stripe.event("payment_intent.payment_failed", intent["id"]))
    assert failed.json()["outcome"] == "payment failed"
    assert (await order_of(stripe_api, buyer, order_id))["payment_status"] == "failed"
    # The buyer retries with another card: success places the order.
    await deliver(stripe_api, stripe.event("payment_intent.succeeded", intent["id"]))
    assert (await order_of(stripe_api, buyer, order_id))["status"] == "placed"
    # A late failure (delivered out of order) is ignored.
    late = await deliver(stripe_api, stripe.event("payment_intent.payment_failed", intent["id"]))
    assert late.status_code == 200
    assert late.json()["outcome"].startswith("ignored")
    order = await order_of(stripe_api, buyer, order_id)
    assert (order["status"], order["payment_status"]) == ("placed", "paid")


async def test_a_silent_stripe_at_checkout_takes_nothing(
    stripe_api: Api, stripe_shop: dict[str, Any], stripe_server: tuple[FakeStripe, str]
) -> None:
    stripe, _ = stripe_server
    stripe.failing = True
    buyer = await stripe_api.customer()
    await fill_cart(stripe_api, buyer, stripe_shop["standard"], (stripe_shop["mug"]["id"], 1))
    assert_error(await stripe_api.client.post(CHECKOUT, headers=buyer), 503, "SERVICE_UNAVAILABLE")
    product = (await stripe_api.client.get(f"/api/v1/products/{stripe_shop['mug']['id']}")).json()
    assert product["stock"] == 10
    assert len((await stripe_api.client.get("/api/v1/cart", headers=buyer)).json()["items"]) == 1
    assert (await stripe_api.client.get("/api/v1/orders", headers=buyer)).json()["items"] == []


async def test_manual_capture_is_refused_for_a_stripe_payment_and_webhooks_need_stripe(
    api: Api, stripe_api: Api, stripe_shop: dict[str, Any]
) -> None:
    _, checkout = await check_out(stripe_api, stripe_shop)
    capture = f"/api/v1/orders/{checkout['order']['id']}/payments/capture"
    assert_error(await stripe_api.client.post(capture, headers=await stripe_api.admin_headers()), 409, "CONFLICT")
    # The embedded default (manual payments) has no Stripe webhook.
    assert_error(await deliver(api, b'{"id": "evt_1"}'), 404, "NOT_FOUND")
    assert_error(await stripe_api.client.post("/api/v1/payments/webhooks/paypal", content=b"{}"), 404, "NOT_FOUND")


async def test_a_payment_after_the_order_expired_is_refunded(
    stripe_api: Api, stripe_shop: dict[str, Any], stripe_server: tuple[FakeStripe, str]
) -> None:
    stripe, _ = stripe_server
    buyer, checkout = await check_out(stripe_api, stripe_shop)
    order_id = checkout["order"]["id"]
    cancelled = await stripe_api.client.post(f"/api/v1/orders/{order_id}/cancel", headers=buyer)
    assert cancelled.status_code == 200
    (intent,) = stripe.intents.values()
    response = await deliver(stripe_api, stripe.event("payment_intent.succeeded", intent["id"]))
    assert response.json()["outcome"].startswith("refunded")
    assert [refund["amount"] for refund in stripe.refunds] == [intent["amount"]]
    assert stripe.requests[-1][2] == f"late-payment-{checkout['payment']['id']}"
    assert (await order_of(stripe_api, buyer, order_id))["status"] == "cancelled"
    # The money that went back is on record, against the payment, not counted as the order's refund.
    (refund,) = await stored_refunds(stripe_api, order_id)
    assert (refund.status, refund.amount, refund.reference) == ("succeeded", Decimal("53.41"), stripe.refunds[0]["id"])
    assert refund.payment_id == checkout["payment"]["id"]
    assert (await order_of(stripe_api, buyer, order_id))["refunded_total"] == "0.00"
    # Stripe delivering it again refunds nothing more.
    again = await deliver(stripe_api, stripe.event("payment_intent.succeeded", intent["id"]))
    assert again.json()["outcome"].startswith("ignored")
    assert len(stripe.refunds) == 1
