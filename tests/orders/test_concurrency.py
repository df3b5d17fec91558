"""No overselling and no double orders under real concurrency: every request on
its own pooled connection, committed data (cleaned up afterwards)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storefront.core.idempotency import advisory_lock_id
from tests.helpers import Api, contended


async def _stock(api: Api, product: dict[str, Any]) -> int:
    stock: int = (await api.client.get(f"/api/v1/products/{product['id']}")).json()["stock"]
    return stock


def _codes(responses: list[httpx.Response]) -> Counter[str]:
    return Counter(
        str(response.status_code) if response.status_code < 400 else response.json()["error"]["code"]
        for response in responses
    )


async def test_fifty_buyers_for_ten_items(live: Api) -> None:
    (product,) = await contended(live, 10)
    buyers = [await live.customer() for _ in range(5)]
    responses = await asyncio.gather(*(live.order(buyers[i % 5], (product["id"], 1)) for i in range(50)))
    assert _codes(responses) == {"201": 10, "OUT_OF_STOCK": 40}
    assert await _stock(live, product) == 0


async def test_mixed_quantities_never_oversell(live: Api) -> None:
    (product,) = await contended(live, 10)
    buyer = await live.customer()
    quantities = [1, 2, 3, 4] * 8
    responses = await asyncio.gather(*(live.order(buyer, (product["id"], quantity)) for quantity in quantities))
    codes = _codes(responses)
    assert set(codes) <= {"201", "OUT_OF_STOCK"}
    sold = sum(
        quantity for quantity, response in zip(quantities, responses, strict=True) if response.status_code == 201
    )
    assert sold <= 10
    assert await _stock(live, product) == 10 - sold
    # With 32 orders of 1 to 4 against 10 items, a correct system sells out nearly always;
    # what must never happen is selling more than there is.
    assert sold >= 7


async def test_two_products_in_opposite_orders_do_not_deadlock(live: Api) -> None:
    first, second = await contended(live, 25, 25)
    buyer = await live.customer()
    requests = [
        live.order(buyer, (first["id"], 1), (second["id"], 1))
        if index % 2
        else live.order(buyer, (second["id"], 1), (first["id"], 1))
        for index in range(40)
    ]
    responses = await asyncio.gather(*requests)
    assert _codes(responses) == {"201": 25, "OUT_OF_STOCK": 15}
    assert await _stock(live, first) == 0
    assert await _stock(live, second) == 0


async def test_twenty_concurrent_requests_with_one_key_make_one_order(live: Api) -> None:
    (product,) = await contended(live, 100)
    buyer = await live.customer()
    responses = await asyncio.gather(*(live.order(buyer, (product["id"], 1), key="one-key") for _ in range(20)))
    codes = _codes(responses)
    assert set(codes) <= {"201", "IDEMPOTENCY_IN_PROGRESS"}
    created = [response for response in responses if response.status_code == 201]
    originals = [response for response in created if "idempotent-replayed" not in response.headers]
    assert len(originals) == 1
    assert {response.json()["id"] for response in created} == {originals[0].json()["id"]}
    orders = (await live.client.get("/api/v1/orders", headers=buyer)).json()["items"]
    assert len(orders) == 1
    assert await _stock(live, product) == 99


async def test_two_concurrent_requests_with_one_key_then_a_retry_all_answer_one_order(live: Api) -> None:
    (product,) = await contended(live, 10)
    buyer = await live.customer()
    first, second = await asyncio.gather(*(live.order(buyer, (product["id"], 1), key="pair-key") for _ in range(2)))
    assert set(_codes([first, second])) <= {"201", "IDEMPOTENCY_IN_PROGRESS"}
    originals = [r for r in (first, second) if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    assert len(originals) == 1
    retry = await live.order(buyer, (product["id"], 1), key="pair-key")
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == originals[0].json()
    orders = (await live.client.get("/api/v1/orders", headers=buyer)).json()["items"]
    assert [order["id"] for order in orders] == [originals[0].json()["id"]]
    assert await _stock(live, product) == 9


async def test_a_key_claimed_by_an_uncommitted_call_is_409_at_once_not_a_wait(live: Api, engine: AsyncEngine) -> None:
    # PostgreSQL: the claim's advisory lock is taken without waiting, so a second call with
    # the key is answered while the first still holds its transaction open (SQLite has one
    # writer at a time: the second call simply runs after the first).
    if live.state.db.dialect != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    (product,) = await contended(live, 10)
    buyer = await live.customer()
    me = (await live.client.get("/api/v1/users/me", headers=buyer)).json()
    async with engine.connect() as other:
        transaction = await other.begin()
        # What an uncommitted claim of (buyer, key) holds until its transaction ends.
        await other.execute(select(func.pg_advisory_xact_lock(advisory_lock_id(me["id"], "held-key"))))
        busy = await asyncio.wait_for(live.order(buyer, (product["id"], 1), key="held-key"), timeout=10)
        assert busy.status_code == 409
        assert busy.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
        await transaction.rollback()
    placed = await live.order(buyer, (product["id"], 1), key="held-key")
    assert placed.status_code == 201
    assert "idempotent-replayed" not in placed.headers
    assert await _stock(live, product) == 9
