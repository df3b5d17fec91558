"""Idempotency-Key on POST /orders."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.orders.models import Order
from tests.helpers import Api, assert_error


@pytest.fixture
async def product(api: Api) -> dict[str, Any]:
    category = await api.category()
    return await api.product(category["slug"], price="3.50", stock=5)


async def _orders(connection: AsyncConnection) -> int:
    return await connection.scalar(select(func.count()).select_from(Order)) or 0


async def test_a_replay_returns_the_first_response_and_creates_nothing(
    api: Api, product: dict[str, Any], connection: AsyncConnection
) -> None:
    buyer = await api.customer()
    first = await api.order(buyer, (product["id"], 2), key="order-abc-1")
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    count = await _orders(connection)
    replay = await api.order(buyer, (product["id"], 2), key="order-abc-1")
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert replay.headers["location"] == first.headers["location"]
    assert await _orders(connection) == count
    stock = (await api.client.get(f"/api/v1/products/{product['id']}")).json()["stock"]
    assert stock == 3


async def test_a_different_body_with_the_same_key_is_422(api: Api, product: dict[str, Any]) -> None:
    buyer = await api.customer()
    await api.order(buyer, (product["id"], 1), key="k-1")
    response = await api.order(buyer, (product["id"], 2), key="k-1")
    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")


async def test_keys_are_scoped_per_user(api: Api, product: dict[str, Any], connection: AsyncConnection) -> None:
    alice, bob = await api.customer(), await api.customer()
    count = await _orders(connection)
    first = await api.order(alice, (product["id"], 1), key="shared-key")
    second = await api.order(bob, (product["id"], 1), key="shared-key")
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert await _orders(connection) == count + 2


async def test_a_refusal_is_replayed_too(api: Api, product: dict[str, Any]) -> None:
    buyer = await api.customer()
    refused = await api.order(buyer, (product["id"], 50), key="too-many")
    assert_error(refused, 409, "OUT_OF_STOCK")
    replay = await api.order(buyer, (product["id"], 50), key="too-many")
    assert replay.status_code == 409
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["error"]["details"] == refused.json()["error"]["details"]


@pytest.mark.parametrize("key", ["", "x" * 256, "has space"])
async def test_malformed_keys_are_422(api: Api, product: dict[str, Any], key: str) -> None:
    response = await api.client.post(
        "/api/v1/orders",
        json={"items": [{"product_id": product["id"], "quantity": 1}]},
        headers={**(await api.customer()), "Idempotency-Key": key},
    )
    assert_error(response, 422, "VALIDATION_ERROR")
