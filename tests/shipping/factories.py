"""Shipping zones and tax rates through the admin API, for the shipping and cart tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.helpers import Api

ZONES = "/api/v1/admin/shipping-zones"
TAX_RATES = "/api/v1/admin/tax-rates"


def rate(
    name: str = "Standard",
    price: str | float = "4.90",
    free_over: str | None = None,
    min_days: int = 2,
    max_days: int = 5,
) -> dict[str, Any]:
    return {"name": name, "price": price, "free_over": free_over, "min_days": min_days, "max_days": max_days}


async def zone(api: Api, countries: Sequence[str], *rates: dict[str, Any], name: str = "Zone") -> dict[str, Any]:
    body = {"name": name, "countries": list(countries), "rates": list(rates) or [rate()]}
    response = await api.client.post(ZONES, json=body, headers=await api.admin_headers())
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def tax(api: Api, country: str, value: str) -> dict[str, Any]:
    response = await api.client.put(f"{TAX_RATES}/{country}", json={"rate": value}, headers=await api.admin_headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
