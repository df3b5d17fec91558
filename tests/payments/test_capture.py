"""Manual payments: only an admin captures, once, and only an order still waiting for it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storefront.payments.models import Payment
from tests.checkout.helpers import confirmations
from tests.helpers import Api, assert_error
from tests.payments.helpers import check_out, order_of


def _capture(order_id: int) -> str:
    return f"/api/v1/orders/{order_id}/payments/capture"


async def _payment(api: Api, order_id: int) -> Payment:
    async with api.state.db.session_scope() as session:
        payment = await session.scalar(select(Payment).where(Payment.order_id == order_id))
        assert payment is not None
        return payment


async def test_an_admin_captures_once_and_the_order_is_placed(api: Api, shop: dict[str, Any]) -> None:
    buyer, checkout = await check_out(api, shop)
    order_id = checkout["order"]["id"]
    assert (checkout["payment"]["provider"], checkout["payment"]["status"]) == ("manual", "pending")
    assert "client_secret" not in checkout["payment"] or checkout["payment"]["client_secret"] is None
    assert_error(await api.client.post(_capture(order_id), headers=buyer), 403, "FORBIDDEN")

    captured = await api.client.post(_capture(order_id), headers=await api.admin_headers())
    assert captured.status_code == 200, captured.text
    assert (captured.json()["status"], captured.json()["payment_status"]) == ("placed", "paid")
    payment = await _payment(api, order_id)
    assert (payment.status, payment.provider, payment.reference) == ("succeeded", "manual", None)
    assert (await confirmations(api, order_id))[0] == 1

    again = await api.client.post(_capture(order_id), headers=await api.admin_headers())
    assert "captured already" in assert_error(again, 409, "CONFLICT")["message"]
    assert (await confirmations(api, order_id))[0] == 1
    assert (await order_of(api, buyer, order_id))["status"] == "placed"


async def test_nothing_to_capture_is_a_409_and_an_unknown_order_a_404(api: Api, shop: dict[str, Any]) -> None:
    admin = await api.admin_headers()
    buyer, checkout = await check_out(api, shop)
    order_id = checkout["order"]["id"]
    assert (await api.client.post(f"/api/v1/orders/{order_id}/cancel", headers=buyer)).status_code == 200
    assert_error(await api.client.post(_capture(order_id), headers=admin), 409, "CONFLICT")
    assert (await _payment(api, order_id)).status == "pending"  # the refused capture left nothing behind
    assert (await order_of(api, buyer, order_id))["status"] == "cancelled"

    direct = (await api.order(buyer, (shop["pot"]["id"], 1))).json()  # settled outside the shop
    assert_error(await api.client.post(_capture(direct["id"]), headers=admin), 409, "CONFLICT")
    assert_error(await api.client.post(_capture(999_999), headers=admin), 404, "NOT_FOUND")
