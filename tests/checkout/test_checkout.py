"""Checkout on the embedded default (manual payments): cart → pending order → admin
capture → placed, with totals, stock, the cart, errors and idempotency checked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from storefront.orders.models import OrderStatus
from storefront.orders.repository import OrderRepository
from storefront.orders.schemas import order_read
from tests.checkout.helpers import ADDRESS, CART, CHECKOUT, confirmations, fill_cart
from tests.helpers import Api, assert_error


async def _stock(api: Api, product: dict[str, Any]) -> int:
    stock: int = (await api.client.get(f"/api/v1/products/{product['id']}")).json()["stock"]
    return stock


async def test_the_whole_flow_cart_checkout_capture_ship(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    mug, pot = shop["mug"], shop["pot"]
    await fill_cart(api, buyer, shop["standard"], (mug["id"], 2), (pot["id"], 1))

    response = await api.client.post(CHECKOUT, headers=buyer)
    assert response.status_code == 201, response.text
    order, payment = response.json()["order"], response.json()["payment"]
    # 2 x 19.99 + 5.00 = 44.98; shipping 4.90 (below 100.00); VAT 19% of 49.88 = 9.4772 -> 9.48.
    assert order["status"] == "pending_payment"
    assert order["payment_status"] == "pending"
    assert [(item["product_id"], item["quantity"], item["line_total"]) for item in order["items"]] == [
        (mug["id"], 2, "39.98"),
        (pot["id"], 1, "5.00"),
    ]
    assert (order["shipping_total"], order["tax_total"], order["total"]) == ("4.90", "9.48", "59.36")
    assert order["shipping_address"]["country"] == "DE"
    assert order["shipping_address"]["name"] == ADDRESS["name"]
    assert order["refunded_total"] == "0.00"
    assert payment["provider"] == "manual"
    assert payment["status"] == "pending"
    assert payment["amount"] == "59.36"
    assert response.headers["location"] == f"/api/v1/orders/{order['id']}"

    # Stock is taken at checkout; the cart is empty; nothing is announced before payment.
    assert await _stock(api, mug) == 8
    assert await _stock(api, pot) == 2
    cart = (await api.client.get(CART, headers=buyer)).json()
    assert cart["items"] == []
    assert cart["total"] == "0.00"
    assert (await confirmations(api, order["id"]))[0] == 0
    assert (await api.client.get("/api/v1/notifications", headers=buyer)).json()["items"] == []

    # A customer cannot say it paid; an admin captures the manual payment.
    capture = f"/api/v1/orders/{order['id']}/payments/capture"
    assert_error(await api.client.post(capture, headers=buyer), 403, "FORBIDDEN")
    captured = await api.client.post(capture, headers=await api.admin_headers())
    assert captured.status_code == 200, captured.text
    placed = (await api.client.get(f"/api/v1/orders/{order['id']}", headers=buyer)).json()
    assert placed["status"] == "placed"
    assert placed["payment_status"] == "paid"
    jobs, written = await confirmations(api, order["id"])
    assert (jobs, written is not None) == (1, True)
    kinds = [item["kind"] for item in (await api.client.get("/api/v1/notifications", headers=buyer)).json()["items"]]
    assert kinds == ["order_placed"]
    # A second capture changes nothing and sends nothing.
    assert_error(await api.client.post(capture, headers=await api.admin_headers()), 409, "CONFLICT")
    assert await confirmations(api, order["id"]) == (1, written)

    for target in ("shipped", "delivered"):
        moved = await api.client.post(
            f"/api/v1/orders/{order['id']}/status", json={"status": target}, headers=await api.admin_headers()
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == target


async def test_free_shipping_from_the_threshold_and_the_totals_copied(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await fill_cart(api, buyer, shop["standard"], (shop["mug"]["id"], 5), (shop["pot"]["id"], 1))
    cart = (await api.client.get(CART, headers=buyer)).json()
    # 5 x 19.99 + 5.00 = 104.95 >= 100.00: free shipping; VAT 19% of 104.95 = 19.9405 -> 19.94.
    assert (cart["subtotal"], cart["shipping_total"], cart["tax_total"], cart["total"]) == (
        "104.95",
        "0.00",
        "19.94",
        "124.89",
    )
    order = (await api.client.post(CHECKOUT, headers=buyer)).json()["order"]
    assert (order["shipping_total"], order["tax_total"], order["total"]) == ("0.00", "19.94", "124.89")
    assert sum(Decimal(item["line_total"]) for item in order["items"]) == Decimal("104.95")


async def test_checkout_charges_the_current_price(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await fill_cart(api, buyer, shop["standard"], (shop["mug"]["id"], 1))
    changed = await api.client.patch(
        f"/api/v1/products/{shop['mug']['id']}", json={"price": "25.00"}, headers=await api.admin_headers()
    )
    assert changed.status_code == 200, changed.text
    order = (await api.client.post(CHECKOUT, headers=buyer)).json()["order"]
    # 25.00 + 4.90 = 29.90; VAT 5.681 -> 5.68.
    assert order["items"][0]["unit_price"] == "25.00"
    assert (order["tax_total"], order["total"]) == ("5.68", "35.58")


async def test_what_is_missing_is_named(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    error = assert_error(await api.client.post(CHECKOUT, headers=buyer), 409, "CONFLICT")
    assert {item["field"] for item in error["details"]} == {"items", "shipping_address"}
    await fill_cart(api, buyer, None, (shop["mug"]["id"], 1))
    error = assert_error(await api.client.post(CHECKOUT, headers=buyer), 409, "CONFLICT")
    assert [item["field"] for item in error["details"]] == ["shipping_option"]


async def test_no_shipping_to_the_country(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await fill_cart(api, buyer, None, (shop["mug"]["id"], 1), address={**ADDRESS, "country": "US"})
    assert_error(await api.client.post(CHECKOUT, headers=buyer), 409, "NOT_SHIPPABLE")
    assert await _stock(api, shop["mug"]) == 10


async def test_out_of_stock_takes_nothing_and_keeps_the_cart(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await fill_cart(api, buyer, shop["standard"], (shop["mug"]["id"], 2), (shop["pot"]["id"], 4))
    error = assert_error(await api.client.post(CHECKOUT, headers=buyer), 409, "OUT_OF_STOCK")
    assert error["details"] == [{"product_id": shop["pot"]["id"], "requested": 4, "available": 3}]
    assert await _stock(api, shop["mug"]) == 10
    assert len((await api.client.get(CART, headers=buyer)).json()["items"]) == 2
    assert (await api.client.get("/api/v1/orders", headers=buyer)).json()["items"] == []


async def test_an_archived_product_in_the_cart_is_refused_by_name(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await fill_cart(api, buyer, shop["standard"], (shop["mug"]["id"], 1), (shop["pot"]["id"], 1))
    await api.order(await api.customer(), (shop["pot"]["id"], 1))  # referenced: deleting archives it
    deleted = await api.client.delete(f"/api/v1/products/{shop['pot']['id']}", headers=await api.admin_headers())
    assert deleted.status_code == 204
    error = assert_error(await api.client.post(CHECKOUT, headers=buyer), 404, "NOT_FOUND")
    assert error["details"] == [{"product_id": shop["pot"]["id"]}]
    assert await _stock(api, shop["mug"]) == 10


async def test_an_idempotency_key_makes_one_order(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await fill_cart(api, buyer, shop["standard"], (shop["mug"]["id"], 1))
    headers = {**buyer, "Idempotency-Key": "checkout-1"}
    first = await api.client.post(CHECKOUT, headers=headers)
    replay = await api.client.post(CHECKOUT, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert len((await api.client.get("/api/v1/orders", headers=buyer)).json()["items"]) == 1
    assert await _stock(api, shop["mug"]) == 9
    # Without the key, the now empty cart is refused.
    assert_error(await api.client.post(CHECKOUT, headers=buyer), 409, "CONFLICT")


async def test_cancelling_an_unpaid_order_returns_its_stock_once(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await fill_cart(api, buyer, shop["standard"], (shop["mug"]["id"], 3))
    order = (await api.client.post(CHECKOUT, headers=buyer)).json()["order"]
    assert await _stock(api, shop["mug"]) == 7
    cancelled = await api.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == OrderStatus.CANCELLED
    assert await _stock(api, shop["mug"]) == 10
    assert_error(
        await api.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer), 409, "INVALID_TRANSITION"
    )
    assert await _stock(api, shop["mug"]) == 10
    capture = f"/api/v1/orders/{order['id']}/payments/capture"
    assert_error(await api.client.post(capture, headers=await api.admin_headers()), 409, "CONFLICT")


async def test_nobody_reads_or_changes_another_users_order(api: Api, shop: dict[str, Any]) -> None:
    owner, other = await api.customer(), await api.customer()
    await fill_cart(api, owner, shop["standard"], (shop["mug"]["id"], 1))
    order = (await api.client.post(CHECKOUT, headers=owner)).json()["order"]
    assert_error(await api.client.get(f"/api/v1/orders/{order['id']}", headers=other), 404, "NOT_FOUND")
    assert_error(await api.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=other), 404, "NOT_FOUND")
    assert (await api.client.get("/api/v1/orders", headers=other)).json()["items"] == []
    # The other user's checkout is of their own (empty) cart.
    assert_error(await api.client.post(CHECKOUT, headers=other), 409, "CONFLICT")
    assert (await api.client.get(f"/api/v1/orders/{order['id']}", headers=owner)).json()["status"] == "pending_payment"


async def test_a_direct_order_has_no_address_and_zero_shipping_and_tax(api: Api, shop: dict[str, Any]) -> None:
    order = (await api.order(await api.customer(), (shop["mug"]["id"], 1))).json()
    assert order["status"] == "placed"
    assert order["shipping_address"] is None
    assert (order["shipping_total"], order["tax_total"], order["refunded_total"]) == ("0.00", "0.00", "0.00")
    assert order["payment_status"] is None


async def test_an_orders_snapshot_is_what_the_api_shows(api: Api, shop: dict[str, Any]) -> None:
    """The confirmation email reads the order past the session: every column, lines in order."""
    buyer = await api.customer()
    await fill_cart(api, buyer, shop["standard"], (shop["mug"]["id"], 2), (shop["pot"]["id"], 1))
    order = (await api.client.post(CHECKOUT, headers=buyer)).json()["order"]
    async with api.state.db.session_scope() as session:
        snapshot = await OrderRepository(session).snapshot(order["id"])
        assert snapshot is not None
        assert order_read(snapshot).model_dump(mode="json") == order
        assert snapshot not in session  # detached: nothing about it is ever written
        assert await OrderRepository(session).snapshot(order["id"] + 1000) is None
