"""Refunds with the manual provider: by amount, by lines with restock, the whole order;
never more than was paid, concurrent refunds included; analytics net of refunds."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from tests.checkout.helpers import CHECKOUT, fill_cart
from tests.helpers import Api, assert_error, contended


async def _paid_order(api: Api, shop: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """3 mugs and 1 pot, checked out and captured: 59.97 + 5.00 + 4.90 shipping, VAT 13.28 -> 83.15."""
    buyer = await api.customer()
    await fill_cart(api, buyer, shop["standard"], (shop["mug"]["id"], 3), (shop["pot"]["id"], 1))
    order = (await api.client.post(CHECKOUT, headers=buyer)).json()["order"]
    captured = await api.client.post(
        f"/api/v1/orders/{order['id']}/payments/capture", headers=await api.admin_headers()
    )
    assert captured.status_code == 200, captured.text
    assert captured.json()["total"] == "83.15"
    return buyer, captured.json()


async def _stock(api: Api, product: dict[str, Any]) -> int:
    stock: int = (await api.client.get(f"/api/v1/products/{product['id']}")).json()["stock"]
    return stock


async def test_by_amount_then_the_rest_then_nothing_more(api: Api, shop: dict[str, Any]) -> None:
    buyer, order = await _paid_order(api, shop)
    refunds, admin = f"/api/v1/orders/{order['id']}/refunds", await api.admin_headers()
    first = await api.client.post(refunds, json={"amount": "20.00", "reason": "late delivery"}, headers=admin)
    assert first.status_code == 201, first.text
    assert {key: first.json()[key] for key in ("amount", "lines", "restock", "reason")} == {
        "amount": "20.00",
        "lines": [],
        "restock": False,
        "reason": "late delivery",
    }
    after = (await api.client.get(f"/api/v1/orders/{order['id']}", headers=buyer)).json()
    assert (after["status"], after["refunded_total"]) == ("placed", "20.00")

    too_much = await api.client.post(refunds, json={"amount": "63.16"}, headers=admin)
    error = assert_error(too_much, 409, "CONFLICT")
    assert error["details"] == [{"refundable": "63.15"}]

    rest = await api.client.post(refunds, json={}, headers=admin)
    assert rest.status_code == 201, rest.text
    assert rest.json()["amount"] == "63.15"
    done = (await api.client.get(f"/api/v1/orders/{order['id']}", headers=buyer)).json()
    assert (done["status"], done["refunded_total"]) == ("refunded", "83.15")
    assert_error(await api.client.post(refunds, json={"amount": "0.01"}, headers=admin), 409, "CONFLICT")


async def test_by_lines_with_restock(api: Api, shop: dict[str, Any]) -> None:
    _, order = await _paid_order(api, shop)
    refunds, admin = f"/api/v1/orders/{order['id']}/refunds", await api.admin_headers()
    assert await _stock(api, shop["mug"]) == 7
    body = {
        "lines": [{"product_id": shop["mug"]["id"], "quantity": 1}, {"product_id": shop["mug"]["id"], "quantity": 1}]
    }
    refunded = await api.client.post(refunds, json={**body, "restock": True}, headers=admin)
    assert refunded.status_code == 201, refunded.text
    # A product listed twice counts once with both quantities: 2 x 19.99.
    assert refunded.json()["amount"] == "39.98"
    assert refunded.json()["lines"] == [{"product_id": shop["mug"]["id"], "quantity": 2}]
    assert await _stock(api, shop["mug"]) == 9
    # One mug is left to refund by line; two more are refused.
    more = await api.client.post(
        refunds, json={"lines": [{"product_id": shop["mug"]["id"], "quantity": 2}]}, headers=admin
    )
    assert assert_error(more, 409, "CONFLICT")["details"] == [
        {"product_id": shop["mug"]["id"], "requested": 2, "refundable": 1}
    ]
    stranger = await api.client.post(refunds, json={"lines": [{"product_id": 999999, "quantity": 1}]}, headers=admin)
    assert_error(stranger, 422, "VALIDATION_ERROR")


async def test_only_admins_refund_and_only_paid_orders(api: Api, shop: dict[str, Any]) -> None:
    buyer, order = await _paid_order(api, shop)
    refunds = f"/api/v1/orders/{order['id']}/refunds"
    assert_error(await api.client.post(refunds, json={}, headers=buyer), 403, "FORBIDDEN")
    assert_error(
        await api.client.post(refunds, json={"amount": "-1"}, headers=await api.admin_headers()),
        422,
        "VALIDATION_ERROR",
    )
    assert_error(
        await api.client.post(refunds, json={"total": "1"}, headers=await api.admin_headers()), 422, "VALIDATION_ERROR"
    )
    await fill_cart(api, buyer, shop["standard"], (shop["pot"]["id"], 1))
    unpaid = (await api.client.post(CHECKOUT, headers=buyer)).json()["order"]
    refused = await api.client.post(
        f"/api/v1/orders/{unpaid['id']}/refunds", json={}, headers=await api.admin_headers()
    )
    assert_error(refused, 409, "CONFLICT")
    missing = await api.client.post("/api/v1/orders/999999/refunds", json={}, headers=await api.admin_headers())
    assert_error(missing, 404, "NOT_FOUND")


async def test_analytics_revenue_is_net_of_refunds_and_leaves_out_unpaid_orders(api: Api, shop: dict[str, Any]) -> None:
    buyer, order = await _paid_order(api, shop)
    admin = await api.admin_headers()
    await api.client.post(f"/api/v1/orders/{order['id']}/refunds", json={"amount": "3.15"}, headers=admin)
    await fill_cart(api, buyer, shop["standard"], (shop["pot"]["id"], 1))
    assert (await api.client.post(CHECKOUT, headers=buyer)).status_code == 201  # pending: not revenue
    today = datetime.now(UTC).date().isoformat()
    body = (await api.client.get("/api/v1/admin/analytics", params={"from": today, "to": today}, headers=admin)).json()
    assert body["days"] == [{"date": today, "orders": 1, "revenue": "80.00"}]
    assert body["orders_by_status"]["pending_payment"] == 1
    assert body["orders_by_status"]["placed"] == 1


async def test_concurrent_refunds_never_exceed_the_payment(live: Api) -> None:
    (product,) = await contended(live, 10)
    buyer = await live.customer()
    order = (await live.order(buyer, (product["id"], 5))).json()  # a direct order: 5 x 2.00 = 10.00, settled
    admin = await live.admin_headers()
    refunds = f"/api/v1/orders/{order['id']}/refunds"
    responses = await asyncio.gather(
        *(live.client.post(refunds, json={"amount": "4.00"}, headers=admin) for _ in range(4))
    )
    codes = Counter(response.status_code for response in responses)
    assert codes == {201: 2, 409: 2}
    after = (await live.client.get(f"/api/v1/orders/{order['id']}", headers=buyer)).json()
    assert after["refunded_total"] == "8.00"
