"""Refunds through Stripe (the local server speaking its HTTP API): counted, then sent
with their own idempotency key, then settled; a Stripe that does not answer or refuses
leaves nothing counted and nothing restocked."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from tests.helpers import Api, assert_error
from tests.payments.helpers import order_of, paid_through_stripe, stored_refunds
from tests.payments.stripe_server import FakeStripe


@dataclass
class Paid:
    stripe: FakeStripe
    buyer: dict[str, str]
    order_id: int
    intent_id: str
    refunds: str  # the order's refunds URL
    admin: dict[str, str]


@pytest.fixture
async def paid(stripe_api: Api, stripe_shop: dict[str, Any], stripe_server: tuple[FakeStripe, str]) -> Paid:
    stripe, _ = stripe_server
    buyer, order_id, intent_id = await paid_through_stripe(stripe_api, stripe_shop, stripe)
    refunds = f"/api/v1/orders/{order_id}/refunds"
    return Paid(stripe, buyer, order_id, intent_id, refunds, await stripe_api.admin_headers())


async def _stock(api: Api, product: dict[str, Any]) -> int:
    stock: int = (await api.client.get(f"/api/v1/products/{product['id']}")).json()["stock"]
    return stock


async def test_a_refund_goes_through_stripe_with_its_own_key(
    stripe_api: Api, stripe_shop: dict[str, Any], paid: Paid
) -> None:
    stripe, post = paid.stripe, stripe_api.client.post
    first = await post(paid.refunds, json={"amount": "10.00", "reason": "damaged"}, headers=paid.admin)
    assert first.status_code == 201, first.text
    assert (first.json()["amount"], first.json()["reason"]) == ("10.00", "damaged")
    assert [(refund["payment_intent"], refund["amount"]) for refund in stripe.refunds] == [(paid.intent_id, 1000)]
    assert stripe.requests[-1][2] == f"refund-{first.json()['id']}"
    (stored,) = await stored_refunds(stripe_api, paid.order_id)
    assert (stored.status, stored.provider, stored.reference) == ("succeeded", "stripe", stripe.refunds[0]["id"])
    assert (await order_of(stripe_api, paid.buyer, paid.order_id))["refunded_total"] == "10.00"

    # By lines, restocked: one mug (19.99) back to stock and back to the card.
    mug = stripe_shop["mug"]
    assert await _stock(stripe_api, mug) == 8
    one_mug = {"lines": [{"product_id": mug["id"], "quantity": 1}], "restock": True}
    by_line = await post(paid.refunds, json=one_mug, headers=paid.admin)
    assert by_line.status_code == 201, by_line.text
    assert (by_line.json()["amount"], by_line.json()["restock"]) == ("19.99", True)
    assert stripe.refunds[-1]["amount"] == 1999
    assert await _stock(stripe_api, mug) == 9

    # The rest: 53.41 - 10.00 - 19.99 = 23.42, and the order is refunded.
    rest = await post(paid.refunds, json={}, headers=paid.admin)
    assert rest.status_code == 201, rest.text
    assert rest.json()["amount"] == "23.42"
    assert [refund["amount"] for refund in stripe.refunds] == [1000, 1999, 2342]
    done = await order_of(stripe_api, paid.buyer, paid.order_id)
    assert (done["status"], done["refunded_total"]) == ("refunded", "53.41")
    assert_error(await post(paid.refunds, json={"amount": "0.01"}, headers=paid.admin), 409, "CONFLICT")
    assert len(stripe.refunds) == 3


async def test_a_silent_stripe_is_a_503_and_leaves_nothing_reserved(
    stripe_api: Api, stripe_shop: dict[str, Any], paid: Paid
) -> None:
    stripe, mug = paid.stripe, stripe_shop["mug"]
    both_mugs = {"lines": [{"product_id": mug["id"], "quantity": 2}], "restock": True}

    stripe.failing = True
    failed = await stripe_api.client.post(paid.refunds, json=both_mugs, headers=paid.admin)
    error = assert_error(failed, 503, "SERVICE_UNAVAILABLE")
    assert "bad day" not in error["message"]  # what Stripe said goes to the log, not the client
    assert len([path for path, _, _ in stripe.requests if path == "/v1/refunds"]) == 3  # the SDK retried twice
    (stored,) = await stored_refunds(stripe_api, paid.order_id)
    assert (stored.status, stored.amount, stored.reference) == ("failed", Decimal("39.98"), None)
    order = await order_of(stripe_api, paid.buyer, paid.order_id)
    assert (order["status"], order["refunded_total"]) == ("placed", "0.00")
    assert await _stock(stripe_api, mug) == 8  # nothing restocked

    # Stripe is back: the same two mugs can be refunded (their units were released too).
    stripe.failing = False
    again = await stripe_api.client.post(paid.refunds, json=both_mugs, headers=paid.admin)
    assert again.status_code == 201, again.text
    assert [refund["amount"] for refund in stripe.refunds] == [3998]
    assert (await order_of(stripe_api, paid.buyer, paid.order_id))["refunded_total"] == "39.98"
    assert await _stock(stripe_api, mug) == 10


async def test_a_refund_stripe_refuses_is_a_409_and_released(stripe_api: Api, paid: Paid) -> None:
    paid.stripe.refund_status = "failed"
    refused = await stripe_api.client.post(paid.refunds, json={"amount": "5.00"}, headers=paid.admin)
    assert_error(refused, 409, "CONFLICT")
    (stored,) = await stored_refunds(stripe_api, paid.order_id)
    assert (stored.status, stored.reference) == ("failed", paid.stripe.refunds[0]["id"])
    assert (await order_of(stripe_api, paid.buyer, paid.order_id))["refunded_total"] == "0.00"


async def test_a_stripe_payment_is_not_refunded_by_a_shop_configured_without_stripe(
    api: Api, stripe_api: Api, paid: Paid
) -> None:
    # The same database, served by a process configured for manual payments only.
    refused = await api.client.post(paid.refunds, json={}, headers=await api.admin_headers())
    assert "stripe" in assert_error(refused, 409, "CONFLICT")["message"]
    assert paid.stripe.refunds == []
    assert await stored_refunds(api, paid.order_id) == []
    assert (await order_of(stripe_api, paid.buyer, paid.order_id))["refunded_total"] == "0.00"
