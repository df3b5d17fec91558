"""Payments under real concurrency (each request on its own pooled connection, committed
data cleaned up afterwards): captures, duplicate webhook deliveries and Stripe refunds."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from tests.checkout.helpers import confirmations, open_shop
from tests.helpers import Api
from tests.payments.helpers import check_out, deliver, order_of, paid_through_stripe
from tests.payments.stripe_server import FakeStripe


async def _shop(api: Api, country: str) -> dict[str, Any]:
    # Named for clean_committed; a country of its own and no tax rate (nothing left behind).
    return await open_shop(
        api,
        country,
        vat=None,
        category="Contention pay",
        mug="Contended mug",
        pot="Contended pot",
        zone="Contention pay zone",
    )


async def test_two_captures_at_once_place_the_order_once(live: Api) -> None:
    _, checkout = await check_out(live, await _shop(live, "IS"), country="IS")
    order_id, admin = checkout["order"]["id"], await live.admin_headers()
    capture = f"/api/v1/orders/{order_id}/payments/capture"
    responses = await asyncio.gather(*(live.client.post(capture, headers=admin) for _ in range(3)))
    assert Counter(response.status_code for response in responses) == {200: 1, 409: 2}
    assert (await confirmations(live, order_id))[0] == 1


async def test_one_event_delivered_three_times_at_once_is_applied_once(
    live_stripe: Api, stripe_server: tuple[FakeStripe, str]
) -> None:
    stripe, _ = stripe_server
    buyer, checkout = await check_out(live_stripe, await _shop(live_stripe, "NO"), country="NO")
    (intent,) = stripe.intents.values()
    payload = stripe.event("payment_intent.succeeded", intent["id"])
    responses = await asyncio.gather(*(deliver(live_stripe, payload) for _ in range(3)))
    assert [response.status_code for response in responses] == [200, 200, 200]
    outcomes = Counter(response.json()["outcome"].split(":")[0] for response in responses)
    assert outcomes == {"order placed": 1, "duplicate": 2}
    assert (await order_of(live_stripe, buyer, checkout["order"]["id"]))["status"] == "placed"
    assert (await confirmations(live_stripe, checkout["order"]["id"]))[0] == 1


async def test_two_stripe_refunds_that_together_exceed_the_payment_one_is_refused(
    live_stripe: Api, stripe_server: tuple[FakeStripe, str]
) -> None:
    stripe, _ = stripe_server
    shop = await _shop(live_stripe, "NO")
    buyer, order_id, _ = await paid_through_stripe(live_stripe, shop, stripe, country="NO")
    refunds, admin = f"/api/v1/orders/{order_id}/refunds", await live_stripe.admin_headers()
    assert (await order_of(live_stripe, buyer, order_id))["total"] == "44.88"  # 2 x 19.99 + 4.90, no tax
    responses = await asyncio.gather(
        *(live_stripe.client.post(refunds, json={"amount": "25.00"}, headers=admin) for _ in range(2))
    )
    assert Counter(response.status_code for response in responses) == {201: 1, 409: 1}
    assert [refund["amount"] for refund in stripe.refunds] == [2500]  # only one reached Stripe
    assert (await order_of(live_stripe, buyer, order_id))["refunded_total"] == "25.00"
