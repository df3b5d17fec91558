"""Tax rates per country (admin): exact decimals, one per country."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.helpers import Api, assert_error
from tests.shipping.factories import TAX_RATES, tax


async def test_admin_sets_and_replaces_a_country_rate(api: Api, connection: AsyncConnection) -> None:
    admin = await api.admin_headers()
    created = await tax(api, "de", "0.19")
    assert created["country"] == "DE"
    assert created["rate"] == "0.19"
    replaced = await tax(api, "DE", "0.07")
    assert replaced["rate"] == "0.07"
    listing = (await api.client.get(TAX_RATES, headers=admin)).json()
    assert listing["next_cursor"] is None
    assert [item for item in listing["items"] if item["country"] == "DE"] == [replaced]
    # Stored exactly, as basis points: no float on any backend.
    stored = await connection.scalar(text("SELECT rate_bp FROM tax_rates WHERE country = 'DE'"))
    assert stored == 700


@pytest.mark.parametrize(("given", "shown"), [("0.0725", "0.0725"), ("0", "0.00"), (0.2, "0.20"), ("0.9999", "0.9999")])
async def test_rates_keep_up_to_four_places(api: Api, given: object, shown: str) -> None:
    response = await api.client.put(f"{TAX_RATES}/US", json={"rate": given}, headers=await api.admin_headers())
    assert response.status_code == 200, response.text
    assert response.json()["rate"] == shown


@pytest.mark.parametrize("given", ["1", "1.00", "-0.01", "0.12345", "abc", "NaN", None])
async def test_rates_out_of_range_are_refused(api: Api, given: object) -> None:
    response = await api.client.put(f"{TAX_RATES}/FR", json={"rate": given}, headers=await api.admin_headers())
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert error["details"][0]["field"] == "rate"
    assert (await api.client.get(TAX_RATES, headers=await api.admin_headers())).json()["items"] == []


async def test_unknown_countries_and_fields_are_refused(api: Api) -> None:
    admin = await api.admin_headers()
    for country in ("XX", "DEU", "1A"):
        response = await api.client.put(f"{TAX_RATES}/{country}", json={"rate": "0.1"}, headers=admin)
        assert assert_error(response, 422, "VALIDATION_ERROR")["details"][0]["field"] == "country"
    extra = await api.client.put(f"{TAX_RATES}/IT", json={"rate": "0.22", "country": "FR"}, headers=admin)
    assert_error(extra, 422, "VALIDATION_ERROR")
    assert (await api.client.get(TAX_RATES, headers=admin)).json()["items"] == []


async def test_tax_rates_are_for_admins_only(api: Api) -> None:
    customer = await api.customer()
    assert_error(await api.client.get(TAX_RATES, headers=customer), 403, "FORBIDDEN")
    assert_error(await api.client.put(f"{TAX_RATES}/DE", json={"rate": "0.5"}, headers=customer), 403, "FORBIDDEN")
    assert_error(await api.client.get(TAX_RATES), 401, "UNAUTHENTICATED")
    assert_error(await api.client.put(f"{TAX_RATES}/DE", json={"rate": "0.5"}), 401, "UNAUTHENTICATED")
    assert (await api.client.get(TAX_RATES, headers=await api.admin_headers())).json()["items"] == []
