"""The cart's address and shipping option: validated, and kept consistent with the zones."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.cart.models import Cart
from tests.cart.helpers import CART, address, cart, choose, put_item, ship_to
from tests.helpers import Api, assert_error
from tests.shipping.factories import ZONES, rate, zone


async def _stored_choice(connection: AsyncConnection, cart_id: int) -> int | None:
    rate_id: int | None = await connection.scalar(select(Cart.shipping_rate_id).where(Cart.id == cart_id))
    return rate_id


async def test_the_address_is_trimmed_and_its_country_upper_cased(api: Api, connection: AsyncConnection) -> None:
    buyer = await api.customer()
    given = address("de", name="  Ada Lovelace ", line2=" Hinterhaus ", phone="+49 30 1234567")
    response = await api.client.put(f"{CART}/shipping-address", json=given, headers=buyer)
    assert response.status_code == 200, response.text
    assert response.json()["shipping_address"] == {
        "name": "Ada Lovelace",
        "line1": "Hauptstr. 1",
        "line2": "Hinterhaus",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
        "phone": "+49 30 1234567",
    }
    stored = await connection.execute(
        select(Cart.address_country, Cart.address_name, Cart.address_line2).where(Cart.id == response.json()["id"])
    )
    assert tuple(stored.one()) == ("DE", "Ada Lovelace", "Hinterhaus")
    assert (await cart(api, buyer))["shipping_address"] == response.json()["shipping_address"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "DEU"}, "country"),
        ({"country": ""}, "country"),
        ({"name": "   "}, "name"),
        ({"line1": "Haupt\x00str"}, "line1"),
        ({"city": "Ber\nlin"}, "city"),
        ({"postal_code": "1" * 21}, "postal_code"),
        ({"name": "x" * 101}, "name"),
        ({"line2": ""}, "line2"),
        ({"phone": "call me"}, "phone"),
        ({"email": "ada@example.com"}, "email"),
        ({"city": None}, "city"),
    ],
)
async def test_invalid_addresses_are_refused(api: Api, change: dict[str, Any], field: str) -> None:
    buyer = await api.customer()
    response = await api.client.put(f"{CART}/shipping-address", json={**address(), **change}, headers=buyer)
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert [detail["field"] for detail in error["details"]] == [field]
    assert (await cart(api, buyer))["shipping_address"] is None


async def test_options_need_an_address(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    assert_error(await api.client.get(f"{CART}/shipping-options", headers=buyer), 409, "CONFLICT")
    await put_item(api, buyer, shop["mug"]["id"], 1)
    assert_error(await api.client.get(f"{CART}/shipping-options", headers=buyer), 409, "CONFLICT")
    choice = await api.client.put(f"{CART}/shipping-option", json={"id": shop["zone"]["rates"][0]["id"]}, headers=buyer)
    assert_error(choice, 409, "CONFLICT")


async def test_options_are_those_of_the_address_country(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    await ship_to(api, buyer, "AT")
    response = await api.client.get(f"{CART}/shipping-options", headers=buyer)
    assert response.status_code == 200
    standard, express = shop["zone"]["rates"]
    assert response.json() == [
        {"id": standard["id"], "name": "Standard", "price": "4.90", "min_days": 2, "max_days": 5},
        {"id": express["id"], "name": "Express", "price": "9.90", "min_days": 1, "max_days": 1},
    ]
    await ship_to(api, buyer, "JP")  # no zone serves Japan
    assert (await api.client.get(f"{CART}/shipping-options", headers=buyer)).json() == []


async def test_only_an_offered_option_can_be_chosen(api: Api, shop: dict[str, Any]) -> None:
    buyer = await api.customer()
    elsewhere = await zone(api, ["FR"], rate("Colissimo", "6.00"))
    await ship_to(api, buyer, "DE")
    for option_id in (elsewhere["rates"][0]["id"], 999999):
        response = await api.client.put(f"{CART}/shipping-option", json={"id": option_id}, headers=buyer)
        assert assert_error(response, 422, "VALIDATION_ERROR")["details"][0]["field"] == "id"
    extra = await api.client.put(f"{CART}/shipping-option", json={"id": 1, "price": "0"}, headers=buyer)
    assert_error(extra, 422, "VALIDATION_ERROR")
    assert (await cart(api, buyer))["shipping_option"] is None

    express = shop["zone"]["rates"][1]
    chosen = await choose(api, buyer, express["id"])
    assert chosen["shipping_option"] == {
        "id": express["id"],
        "name": "Express",
        "price": "9.90",
        "min_days": 1,
        "max_days": 1,
    }


async def test_a_new_address_keeps_the_option_only_where_it_ships(
    api: Api, shop: dict[str, Any], connection: AsyncConnection
) -> None:
    buyer = await api.customer()
    standard = shop["zone"]["rates"][0]
    await ship_to(api, buyer, "DE")
    body = await choose(api, buyer, standard["id"])
    assert (await ship_to(api, buyer, "AT"))["shipping_option"]["id"] == standard["id"]  # same zone: kept

    moved = await ship_to(api, buyer, "US")
    assert moved["shipping_option"] is None
    assert moved["shipping_total"] == "0.00"
    assert await _stored_choice(connection, body["id"]) is None
    assert (await ship_to(api, buyer, "DE"))["shipping_option"] is None  # cleared, not remembered


async def test_admin_changes_to_zones_reach_the_cart(
    api: Api, shop: dict[str, Any], connection: AsyncConnection
) -> None:
    admin = await api.admin_headers()
    buyer = await api.customer()
    standard, express = shop["zone"]["rates"]
    await put_item(api, buyer, shop["pot"]["id"], 1)
    await ship_to(api, buyer, "DE")
    body = await choose(api, buyer, express["id"])
    assert body["shipping_total"] == "9.90"

    # The chosen rate is dropped from the zone: the cart loses the choice, in the database too.
    patch = {"rates": [{**rate("Standard", "4.90", "100.00", 2, 5), "id": standard["id"]}]}
    assert (await api.client.patch(f"{ZONES}/{shop['zone']['id']}", json=patch, headers=admin)).status_code == 200
    after = await cart(api, buyer)
    assert (after["shipping_option"], after["shipping_total"]) == (None, "0.00")
    assert await _stored_choice(connection, body["id"]) is None

    # A rate that no longer serves the country does not count, even while still stored.
    await choose(api, buyer, standard["id"])
    no_de = {"countries": ["AT"]}
    assert (await api.client.patch(f"{ZONES}/{shop['zone']['id']}", json=no_de, headers=admin)).status_code == 200
    assert (await cart(api, buyer))["shipping_option"] is None

    # The whole zone deleted: the stored choice goes with it.
    assert (await api.client.delete(f"{ZONES}/{shop['zone']['id']}", headers=admin)).status_code == 204
    assert await _stored_choice(connection, body["id"]) is None
