"""No overselling and no double orders under real concurrency: every request on
its own pooled connection, committed data (cleaned up afterwards)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storefront.app import create_app
from storefront.catalog.models import Category, Product
from storefront.config import Settings
from storefront.core.idempotency import IdempotencyKey
from storefront.core.jobs import Job
from storefront.identity.models import User
from storefront.orders.models import Order, OrderLine, SentEmail
from tests.conftest import make_settings
from tests.helpers import Api


@pytest.fixture
async def live(settings: Settings, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Api]:
    """The app on the real engine: each request commits on its own connection."""
    async with engine.connect() as connection:
        last_job = await connection.scalar(select(Job.id).order_by(Job.id.desc()).limit(1)) or 0
    app = create_app(make_settings(tmp_path, database_url=settings.resolved_database_url))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=60) as client,
    ):
        if app.state.storefront.redis is not None:
            await app.state.storefront.redis.flushdb()
        api = Api(client, app)
        try:
            yield api
        finally:
            await _clean(engine, last_job)


async def _clean(engine: AsyncEngine, last_job: int) -> None:
    async with engine.begin() as connection:
        users = select(User.id).where(User.email.like("%@example.com"))
        orders = select(Order.id).where(Order.user_id.in_(users))
        sent = [f"order-confirmation:{order_id}" for order_id in (await connection.scalars(orders)).all()]
        await connection.execute(delete(SentEmail).where(SentEmail.key.in_(sent)))
        await connection.execute(delete(OrderLine).where(OrderLine.order_id.in_(orders)))
        await connection.execute(delete(Order).where(Order.user_id.in_(users)))
        await connection.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id.in_(users)))
        await connection.execute(delete(Job).where(Job.id > last_job))
        await connection.execute(delete(Product).where(Product.title.like("Contended %")))
        await connection.execute(delete(Category).where(Category.name.like("Contention %")))
        await connection.execute(delete(User).where(User.id.in_(users)))


async def _contended(api: Api, *stocks: int) -> list[dict[str, Any]]:
    category = await api.category(f"Contention {id(api)}")
    return [
        await api.product(category["slug"], f"Contended {index} {id(api)}", price="2.00", stock=stock)
        for index, stock in enumerate(stocks)
    ]


async def _stock(api: Api, product: dict[str, Any]) -> int:
    stock: int = (await api.client.get(f"/api/v1/products/{product['id']}")).json()["stock"]
    return stock


def _codes(responses: list[httpx.Response]) -> Counter[str]:
    return Counter(
        str(response.status_code) if response.status_code < 400 else response.json()["error"]["code"]
        for response in responses
    )


async def test_fifty_buyers_for_ten_items(live: Api) -> None:
    (product,) = await _contended(live, 10)
    buyers = [await live.customer() for _ in range(5)]
    responses = await asyncio.gather(*(live.order(buyers[i % 5], (product["id"], 1)) for i in range(50)))
    assert _codes(responses) == {"201": 10, "OUT_OF_STOCK": 40}
    assert await _stock(live, product) == 0


async def test_mixed_quantities_never_oversell(live: Api) -> None:
    (product,) = await _contended(live, 10)
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
    first, second = await _contended(live, 25, 25)
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
    (product,) = await _contended(live, 100)
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
