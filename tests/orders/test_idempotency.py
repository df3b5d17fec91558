"""Idempotency-Key on POST /orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.core.idempotency import IdempotencyKey, request_hash
from storefront.orders.models import Order
from storefront.orders.schemas import OrderCreate
from tests.helpers import Api, assert_error, failing_commits


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


async def _keys(connection: AsyncConnection, key: str) -> list[tuple[int | None, str | None]]:
    rows = await connection.execute(
        select(IdempotencyKey.response_status, IdempotencyKey.locked_until).where(IdempotencyKey.key == key)
    )
    return [(row.response_status, None if row.locked_until is None else "locked") for row in rows]


async def test_a_failed_commit_takes_the_key_claim_with_it_and_a_retry_runs(
    api: Api, product: dict[str, Any], connection: AsyncConnection
) -> None:
    # The key is claimed in the order's own unit of work: when that unit of work fails (here
    # at COMMIT, after the claim, the stock, the order and the jobs were all written), the
    # claim goes too, so the retry is not told "in progress" for a minute: it places the order.
    buyer = await api.customer()
    count = await _orders(connection)
    healthy = api.state.db.sessionmaker
    api.state.db.sessionmaker = failing_commits(connection, lambda session: bool(session.info.get("after_commit")))
    failed = await api.order(buyer, (product["id"], 2), key="fails-once")
    api.state.db.sessionmaker = healthy
    assert_error(failed, 503, "SERVICE_UNAVAILABLE")
    assert await _keys(connection, "fails-once") == []
    assert await _orders(connection) == count
    retry = await api.order(buyer, (product["id"], 2), key="fails-once")
    assert retry.status_code == 201, retry.text
    assert "idempotent-replayed" not in retry.headers
    assert await _keys(connection, "fails-once") == [(201, None)]
    replay = await api.order(buyer, (product["id"], 2), key="fails-once")
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == retry.json()
    assert await _orders(connection) == count + 1
    assert (await api.client.get(f"/api/v1/products/{product['id']}")).json()["stock"] == 3


async def test_a_refusal_leaves_only_its_answer_under_the_key(
    api: Api, product: dict[str, Any], connection: AsyncConnection
) -> None:
    buyer = await api.customer()
    count = await _orders(connection)
    refused = await api.order(buyer, (product["id"], 50), key="refused-once")
    assert_error(refused, 409, "OUT_OF_STOCK")
    # The unit of work rolled back (no order, no stock taken); the refusal was stored on its own.
    assert await _keys(connection, "refused-once") == [(409, None)]
    assert await _orders(connection) == count
    assert (await api.client.get(f"/api/v1/products/{product['id']}")).json()["stock"] == 5


async def _legacy_claim(
    connection: AsyncConnection, user_id: int, key: str, fingerprint: str, locked_until: datetime
) -> None:
    # A claim committed without an answer, as the earlier three-step design left one
    # while its call ran (or for good, when that call died).
    now = datetime.now(UTC)
    await connection.execute(
        insert(IdempotencyKey).values(
            user_id=user_id,
            key=key,
            request_hash=fingerprint,
            locked_until=locked_until,
            created_at=now,
            expires_at=now + timedelta(hours=24),
        )
    )


async def test_an_old_claim_with_a_live_lease_is_in_progress_and_an_expired_one_is_taken_over(
    api: Api, connection: AsyncConnection
) -> None:
    category = await api.category()
    product = await api.product(category["slug"], price="1.00", stock=5)
    buyer = await api.customer()
    me = (await api.client.get("/api/v1/users/me", headers=buyer)).json()
    body = OrderCreate.model_validate({"items": [{"product_id": product["id"], "quantity": 1}]})
    fingerprint = request_hash("orders.place", body)
    now = datetime.now(UTC)
    await _legacy_claim(connection, me["id"], "live-lease", fingerprint, now + timedelta(seconds=60))
    assert_error(await api.order(buyer, (product["id"], 1), key="live-lease"), 409, "IDEMPOTENCY_IN_PROGRESS")
    await _legacy_claim(connection, me["id"], "dead-lease", fingerprint, now - timedelta(seconds=1))
    taken_over = await api.order(buyer, (product["id"], 1), key="dead-lease")
    assert taken_over.status_code == 201, taken_over.text
    assert "idempotent-replayed" not in taken_over.headers
    assert await _keys(connection, "dead-lease") == [(201, None)]
