"""Payment test helpers: a customer's checkout, a webhook delivered as Stripe would, an order read back."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from storefront.payments.models import Refund
from tests.checkout.helpers import ADDRESS, CHECKOUT, fill_cart
from tests.helpers import Api
from tests.payments.stripe_server import FakeStripe, sign

WEBHOOK = "/api/v1/payments/webhooks/stripe"


async def check_out(
    api: Api, shop: dict[str, Any], quantity: int = 2, country: str = "DE"
) -> tuple[dict[str, str], dict[str, Any]]:
    """A new customer buys ``quantity`` mugs: their headers and the checkout's answer."""
    buyer = await api.customer()
    await fill_cart(
        api, buyer, shop["standard"], (shop["mug"]["id"], quantity), address={**ADDRESS, "country": country}
    )
    response = await api.client.post(CHECKOUT, headers=buyer)
    assert response.status_code == 201, response.text
    return buyer, response.json()


async def deliver(api: Api, payload: bytes, signature: str | None = None) -> httpx.Response:
    headers = {"content-type": "application/json", "Stripe-Signature": signature or sign(payload)}
    return await api.client.post(WEBHOOK, content=payload, headers=headers)


async def order_of(api: Api, buyer: dict[str, str], order_id: int) -> dict[str, Any]:
    body: dict[str, Any] = (await api.client.get(f"/api/v1/orders/{order_id}", headers=buyer)).json()
    return body


async def stored_refunds(api: Api, order_id: int) -> list[Refund]:
    async with api.state.db.session_scope() as session:
        return list(
            (await session.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id))).all()
        )


async def paid_through_stripe(
    api: Api, shop: dict[str, Any], stripe: FakeStripe, country: str = "DE"
) -> tuple[dict[str, str], int, str]:
    """Two mugs bought and paid through Stripe (a signed webhook): the buyer, the order id, the intent id."""
    buyer, checkout = await check_out(api, shop, country=country)
    order_id = checkout["order"]["id"]
    (intent_id,) = [key for key, intent in stripe.intents.items() if intent["metadata"]["order_id"] == str(order_id)]
    placed = await deliver(api, stripe.event("payment_intent.succeeded", intent_id))
    assert placed.json()["outcome"] == "order placed", placed.text
    return buyer, order_id, intent_id
