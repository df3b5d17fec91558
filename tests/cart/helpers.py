"""Cart calls for the cart tests."""

from __future__ import annotations

from typing import Any

from tests.helpers import Api

CART = "/api/v1/cart"


def address(country: str = "DE", **fields: Any) -> dict[str, Any]:
    return {
        "name": "Ada Lovelace",
        "line1": "Hauptstr. 1",
        "city": "Berlin",
        "postal_code": "10115",
        "country": country,
        **fields,
    }


async def cart(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    response = await api.client.get(CART, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def put_item(api: Api, headers: dict[str, str], product_id: int, quantity: int) -> dict[str, Any]:
    response = await api.client.put(f"{CART}/items/{product_id}", json={"quantity": quantity}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def ship_to(api: Api, headers: dict[str, str], country: str = "DE") -> dict[str, Any]:
    response = await api.client.put(f"{CART}/shipping-address", json=address(country), headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def choose(api: Api, headers: dict[str, str], option_id: int) -> dict[str, Any]:
    response = await api.client.put(f"{CART}/shipping-option", json={"id": option_id}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
