"""The cart: created on first use, lines set and removed, live products only, one per user."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.cart.models import Cart, CartItem
from tests.cart.helpers import CART, cart, put_item
from tests.conftest import make_settings
from tests.helpers import Api, assert_error


async def test_the_cart_is_created_empty_on_first_read(api: Api, connection: AsyncConnection) -> None:
    user, tokens = await api.user_tokens()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    first = await cart(api, headers)
    assert first == {
        "id": first["id"],
        "items": [],
        "shipping_address": None,
        "shipping_option": None,
        "subtotal": "0.00",
        "shipping_total": "0.00",
        "tax_total": "0.00",
        "total": "0.00",
        "currency": "USD",
        "updated_at": first["updated_at"],
    }
    assert (await cart(api, headers))["id"] == first["id"]
    assert await connection.scalar(select(func.count()).where(Cart.user_id == user["id"])) == 1


async def test_currency_comes_from_the_settings(make_api: Any, tmp_path: Path) -> None:
    euro_api = await make_api(currency="EUR")
    assert (await cart(euro_api, await euro_api.customer()))["currency"] == "EUR"
    assert make_settings(tmp_path, currency=" eur ").currency == "EUR"
    with pytest.raises(ValidationError, match="ISO 4217"):
        make_settings(tmp_path, currency="XYZ")


async def test_a_line_is_set_replaced_and_removed(api: Api, shop: dict[str, Any], connection: AsyncConnection) -> None:
    buyer = await api.customer()
    mug, pot = shop["mug"], shop["pot"]
    await put_item(api, buyer, mug["id"], 2)
    body = await put_item(api, buyer, pot["id"], 1)
    assert body["items"] == [
        {"product_id": mug["id"], "title": "Cart Mug", "unit_price": "19.99", "quantity": 2, "line_total": "39.98"},
        {"product_id": pot["id"], "title": "Cart Pot", "unit_price": "5.00", "quantity": 1, "line_total": "5.00"},
    ]
    assert body["subtotal"] == body["total"] == "44.98"

    replaced = await put_item(api, buyer, mug["id"], 5)  # sets, does not add
    assert [(item["product_id"], item["quantity"]) for item in replaced["items"]] == [(mug["id"], 5), (pot["id"], 1)]
    # Compared as instants: the ISO text leaves out a zero fraction of a second.
    assert datetime.fromisoformat(replaced["updated_at"]) >= datetime.fromisoformat(body["updated_at"])

    removed = await api.client.delete(f"{CART}/items/{mug['id']}", headers=buyer)
    assert removed.status_code == 200
    assert [item["product_id"] for item in removed.json()["items"]] == [pot["id"]]
    again = await api.client.delete(f"{CART}/items/{mug['id']}", headers=buyer)  # already gone: nothing changes
    assert again.status_code == 200
    assert again.json()["items"] == removed.json()["items"]
    lines = select(func.count()).select_from(CartItem).where(CartItem.cart_id == body["id"])
    assert await connection.scalar(lines) == 1
    # Stock is not taken by a cart.
    assert (await api.client.get(f"/api/v1/products/{pot['id']}")).json()["stock"] == 3


async def test_unknown_and_archived_products_are_not_found(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    admin = await api.admin_headers()
    unknown = await api.client.put(f"{CART}/items/999999", json={"quantity": 1}, headers=buyer)
    assert assert_error(unknown, 404, "NOT_FOUND")["details"] == [{"product_id": 999999}]

    assert (await api.order(await api.customer(), (shop["pot"]["id"], 1))).status_code == 201
    assert (await api.client.delete(f"/api/v1/products/{shop['pot']['id']}", headers=admin)).status_code == 204
    archived = await api.client.put(f"{CART}/items/{shop['pot']['id']}", json={"quantity": 1}, headers=buyer)
    assert_error(archived, 404, "NOT_FOUND")
    assert (await cart(api, buyer))["items"] == []


async def test_archived_and_erased_products_leave_items_and_totals(
    api: Api, shop: dict[str, Any], connection: AsyncConnection
) -> None:
    buyer = await api.customer()
    admin = await api.admin_headers()
    extra = await api.product(shop["category"]["slug"], "Cart Spoon", price="1.25")
    await put_item(api, buyer, shop["mug"]["id"], 1)
    await put_item(api, buyer, shop["pot"]["id"], 2)
    body = await put_item(api, buyer, extra["id"], 4)
    assert body["subtotal"] == "34.99"

    # The pot is referenced by an order, so deleting it archives it; the spoon is erased.
    assert (await api.order(await api.customer(), (shop["pot"]["id"], 1))).status_code == 201
    assert (await api.client.delete(f"/api/v1/products/{shop['pot']['id']}", headers=admin)).status_code == 204
    assert (await api.client.delete(f"/api/v1/products/{extra['id']}", headers=admin)).status_code == 204

    after = await cart(api, buyer)
    assert [item["product_id"] for item in after["items"]] == [shop["mug"]["id"]]
    assert after["subtotal"] == after["total"] == "19.99"
    lines = (await connection.scalars(select(CartItem.product_id).where(CartItem.cart_id == body["id"]))).all()
    assert sorted(lines) == sorted([shop["mug"]["id"], shop["pot"]["id"]])  # the erased product's line is gone


@pytest.mark.parametrize("body", [{"quantity": 0}, {"quantity": 101}, {"quantity": -1}, {"quantity": "many"}, {}])
async def test_quantities_outside_1_to_100_are_refused(api: Api, shop: dict[str, Any], body: dict[str, Any]) -> None:
    buyer = await api.customer()
    response = await api.client.put(f"{CART}/items/{shop['mug']['id']}", json=body, headers=buyer)
    assert assert_error(response, 422, "VALIDATION_ERROR")["details"][0]["field"] == "quantity"
    assert (await cart(api, buyer))["items"] == []


async def test_the_bounds_themselves_are_accepted(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    assert (await put_item(api, buyer, shop["mug"]["id"], 100))["items"][0]["quantity"] == 100
    assert (await put_item(api, buyer, shop["mug"]["id"], 1))["items"][0]["quantity"] == 1


async def test_unknown_body_fields_and_bad_ids_are_refused(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    product = shop["mug"]["id"]
    extra = await api.client.put(f"{CART}/items/{product}", json={"quantity": 1, "unit_price": "0.01"}, headers=buyer)
    assert assert_error(extra, 422, "VALIDATION_ERROR")["details"][0]["field"] == "unit_price"
    for bad in ("0", "abc", str(2**31)):
        response = await api.client.put(f"{CART}/items/{bad}", json={"quantity": 1}, headers=buyer)
        assert assert_error(response, 422, "VALIDATION_ERROR")["details"][0]["field"] == "product_id"
    assert (await cart(api, buyer))["items"] == []


async def test_a_cart_is_full_at_the_order_line_limit(make_api: Any) -> None:
    small = await make_api(order_max_lines=2)
    category = await small.category()
    products = [await small.product(category["slug"]) for _ in range(3)]
    buyer = await small.customer()
    await put_item(small, buyer, products[0]["id"], 1)
    await put_item(small, buyer, products[1]["id"], 1)
    full = await small.client.put(f"{CART}/items/{products[2]['id']}", json={"quantity": 1}, headers=buyer)
    assert_error(full, 409, "CONFLICT")
    assert (await put_item(small, buyer, products[1]["id"], 3))["items"][1]["quantity"] == 3  # existing lines change


async def test_nobody_sees_or_changes_another_users_cart(api: Api, shop: dict[str, Any]) -> None:
    alice, bob = await api.customer(), await api.customer()
    alices = await put_item(api, alice, shop["mug"]["id"], 2)
    bobs = await cart(api, bob)
    assert bobs["id"] != alices["id"]
    assert bobs["items"] == []

    await put_item(api, bob, shop["mug"]["id"], 7)
    assert (await api.client.delete(f"{CART}/items/{shop['mug']['id']}", headers=bob)).status_code == 200
    assert (await cart(api, alice))["items"] == alices["items"]  # Alice's line is untouched


async def test_the_cart_needs_a_signed_in_user(api: Api, shop: dict[str, Any]) -> None:
    for method, path, body in [
        ("GET", CART, None),
        ("PUT", f"{CART}/items/{shop['mug']['id']}", {"quantity": 1}),
        ("DELETE", f"{CART}/items/{shop['mug']['id']}", None),
        ("PUT", f"{CART}/shipping-address", {}),
        ("GET", f"{CART}/shipping-options", None),
        ("PUT", f"{CART}/shipping-option", {"id": 1}),
    ]:
        response = await api.client.request(method, path, json=body)
        assert_error(response, 401, "UNAUTHENTICATED")
