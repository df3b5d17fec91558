"""Shipping zones (admin): countries in at most one zone, rates replaced keeping their ids."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.shipping.models import ShippingRate, ShippingZoneCountry
from tests.helpers import Api, assert_error
from tests.shipping.factories import ZONES, rate, zone


async def test_admin_creates_a_zone_and_reads_it_back(api: Api) -> None:
    admin = await api.admin_headers()
    body = {
        "name": "  Europe  ",
        "countries": ["de", "AT", " fr", "DE"],
        "rates": [rate("Standard", "4.90", "50.00", 2, 5), rate("Express", 9.9, None, 1, 1)],
    }
    response = await api.client.post(ZONES, json=body, headers=admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"{ZONES}/{created['id']}"
    assert created["name"] == "Europe"
    assert created["countries"] == ["AT", "DE", "FR"]  # upper case, once each
    standard, express = created["rates"]
    assert standard == {
        "id": standard["id"],
        "name": "Standard",
        "price": "4.90",
        "free_over": "50.00",
        "min_days": 2,
        "max_days": 5,
    }
    assert express["price"] == "9.90"
    assert express["free_over"] is None

    read = await api.client.get(f"{ZONES}/{created['id']}", headers=admin)
    assert read.status_code == 200
    assert read.json() == created
    listing = (await api.client.get(ZONES, headers=admin)).json()
    assert set(listing) == {"items", "next_cursor"}
    assert created in listing["items"]


async def test_a_country_belongs_to_one_zone_at_most(api: Api, connection: AsyncConnection) -> None:
    admin = await api.admin_headers()
    first = await zone(api, ["DE"])
    response = await api.client.post(
        ZONES, json={"name": "Other", "countries": ["AT", "de"], "rates": [rate()]}, headers=admin
    )
    error = assert_error(response, 409, "CONFLICT")
    assert error["details"] == [{"country": "DE", "zone_id": first["id"]}]
    # Nothing of the refused zone was stored: AT is still free.
    assert await connection.scalar(select(func.count()).where(ShippingZoneCountry.country == "AT")) == 0

    second = await zone(api, ["AT"])
    moved = await api.client.patch(f"{ZONES}/{second['id']}", json={"countries": ["AT", "DE"]}, headers=admin)
    assert_error(moved, 409, "CONFLICT")
    assert (await api.client.get(f"{ZONES}/{second['id']}", headers=admin)).json()["countries"] == ["AT"]

    # Once the first zone lets DE go, the second may take it.
    released = await api.client.patch(f"{ZONES}/{first['id']}", json={"countries": ["CH"]}, headers=admin)
    assert released.json()["countries"] == ["CH"]
    taken = await api.client.patch(f"{ZONES}/{second['id']}", json={"countries": ["DE", "AT"]}, headers=admin)
    assert taken.status_code == 200, taken.text
    assert taken.json()["countries"] == ["AT", "DE"]


async def test_patch_replaces_rates_keeping_the_ids_given(api: Api, connection: AsyncConnection) -> None:
    admin = await api.admin_headers()
    created = await zone(api, ["NL"], rate("Standard", "4.90"), rate("Express", "9.90"))
    standard, express = created["rates"]
    response = await api.client.patch(
        f"{ZONES}/{created['id']}",
        json={
            "rates": [{**rate("Standard", "5.50", "60.00"), "id": standard["id"]}, rate("Pickup", "0.00", None, 0, 0)]
        },
        headers=admin,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "Zone"  # not given, not changed
    assert updated["countries"] == ["NL"]
    kept, pickup = updated["rates"]
    assert kept == {**standard, "price": "5.50", "free_over": "60.00"}
    assert pickup["name"] == "Pickup"
    assert pickup["id"] not in {standard["id"], express["id"]}
    # The left-out rate is gone from the database, not only from the answer.
    assert await connection.scalar(select(func.count()).where(ShippingRate.id == express["id"])) == 0
    assert (await api.client.get(f"{ZONES}/{created['id']}", headers=admin)).json() == updated


async def test_patch_refuses_rate_ids_of_other_zones_or_listed_twice(api: Api) -> None:
    admin = await api.admin_headers()
    mine = await zone(api, ["BE"])
    other = await zone(api, ["LU"])
    foreign = {**rate(), "id": other["rates"][0]["id"]}
    response = await api.client.patch(f"{ZONES}/{mine['id']}", json={"rates": [foreign]}, headers=admin)
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert error["details"][0]["field"] == "rates.0.id"

    own = {**rate(), "id": mine["rates"][0]["id"]}
    twice = await api.client.patch(f"{ZONES}/{mine['id']}", json={"rates": [own, own]}, headers=admin)
    assert assert_error(twice, 422, "VALIDATION_ERROR")["details"][0]["field"] == "rates.1.id"
    # Neither attempt changed anything.
    assert (await api.client.get(f"{ZONES}/{other['id']}", headers=admin)).json() == other
    assert (await api.client.get(f"{ZONES}/{mine['id']}", headers=admin)).json() == mine


async def test_delete_removes_the_zone_and_frees_its_countries(api: Api, connection: AsyncConnection) -> None:
    admin = await api.admin_headers()
    created = await zone(api, ["DK"])
    response = await api.client.delete(f"{ZONES}/{created['id']}", headers=admin)
    assert response.status_code == 204
    assert_error(await api.client.get(f"{ZONES}/{created['id']}", headers=admin), 404, "NOT_FOUND")
    assert_error(await api.client.delete(f"{ZONES}/{created['id']}", headers=admin), 404, "NOT_FOUND")
    assert_error(await api.client.patch(f"{ZONES}/{created['id']}", json={}, headers=admin), 404, "NOT_FOUND")
    assert await connection.scalar(select(func.count()).where(ShippingRate.zone_id == created["id"])) == 0
    await zone(api, ["DK"])  # the country is free again


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"countries": ["XX"]}, "countries.0"),
        ({"countries": ["DEU"]}, "countries.0"),
        ({"name": "   "}, "name"),
        ({"name": "Nul\x00zone"}, "name"),
        ({"rates": [rate(min_days=5, max_days=2)]}, "rates.0.max_days"),
        ({"rates": [rate(price="-1.00")]}, "rates.0.price"),
        ({"rates": [rate(price="1.999")]}, "rates.0.price"),
        ({"rates": [rate(free_over="-0.01")]}, "rates.0.free_over"),
        ({"rates": [{**rate(), "zone_id": 1}]}, "rates.0.zone_id"),
        ({"id": 7}, "id"),
    ],
)
async def test_invalid_zones_are_refused(api: Api, change: dict[str, Any], field: str) -> None:
    body = {"name": "Zone", "countries": ["IT"], "rates": [rate()], **change}
    response = await api.client.post(ZONES, json=body, headers=await api.admin_headers())
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert field in [detail["field"] for detail in error["details"]]
    assert (await api.client.get(ZONES, headers=await api.admin_headers())).json()["items"] == []


async def test_zones_are_paged_oldest_first(api: Api) -> None:
    admin = await api.admin_headers()
    created = [await zone(api, [country]) for country in ("PL", "CZ", "SK")]
    first = (await api.client.get(ZONES, params={"limit": 2}, headers=admin)).json()
    assert [item["id"] for item in first["items"]] == [created[0]["id"], created[1]["id"]]
    assert first["next_cursor"]
    rest = (await api.client.get(ZONES, params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin)).json()
    assert [item["id"] for item in rest["items"]] == [created[2]["id"]]
    assert rest["next_cursor"] is None
    assert_error(await api.client.get(ZONES, params={"limit": 0}, headers=admin), 422, "VALIDATION_ERROR")
    assert_error(await api.client.get(ZONES, params={"cursor": "forged"}, headers=admin), 400, "BAD_REQUEST")


async def test_zones_are_for_admins_only(api: Api) -> None:
    created = await zone(api, ["SE"])
    customer = await api.customer()
    path = f"{ZONES}/{created['id']}"
    body = {"name": "Mine", "countries": ["NO"], "rates": []}
    for method, url, json in [
        ("GET", ZONES, None),
        ("POST", ZONES, body),
        ("PATCH", path, body),
        ("DELETE", path, None),
    ]:
        assert_error(await api.client.request(method, url, json=json, headers=customer), 403, "FORBIDDEN")
        anonymous = await api.client.request(method, url, json=json)
        assert_error(anonymous, 401, "UNAUTHENTICATED")
        assert anonymous.headers["www-authenticate"] == "Bearer"
    assert (await api.client.get(path, headers=await api.admin_headers())).json() == created
