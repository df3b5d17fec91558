"""The read cache: used on hits, invalidated on every write, across processes with Redis."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import REDIS_URL, AppFactory
from tests.helpers import Api, assert_error


async def test_hits_are_served_from_the_cache_and_writes_invalidate(api: Api, connection: AsyncConnection) -> None:
    category = await api.category()
    product = await api.product(category["slug"], "Cached Colander", price="9.00")
    url = f"/api/v1/products/{product['id']}"
    assert (await api.client.get(url)).json()["price"] == "9.00"

    # Change the row behind the app's back: a cache hit does not see it.
    await connection.execute(text("UPDATE products SET price_cents = 1 WHERE id = :id"), {"id": product["id"]})
    assert (await api.client.get(url)).json()["price"] == "9.00"

    # A write through the app invalidates, so the next read is fresh.
    patched = await api.client.patch(url, json={"stock": 1}, headers=await api.admin_headers())
    assert patched.json()["price"] == "0.01"
    assert (await api.client.get(url)).json()["price"] == "0.01"


async def test_cache_can_be_turned_off(make_api: AppFactory, connection: AsyncConnection) -> None:
    api = await make_api(cache_enabled=False)
    category = await api.category()
    product = await api.product(category["slug"], price="9.00")
    url = f"/api/v1/products/{product['id']}"
    await api.client.get(url)
    await connection.execute(text("UPDATE products SET price_cents = 1 WHERE id = :id"), {"id": product["id"]})
    assert (await api.client.get(url)).json()["price"] == "0.01"


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis: runs in the PostgreSQL + Redis pass of .ci/run")
async def test_two_processes_sharing_redis_never_serve_a_stale_product(make_api: AppFactory) -> None:
    first = await make_api()
    second = await make_api()
    category = await first.category()
    product = await first.product(category["slug"], "Shared Sieve", price="5.00")
    url = f"/api/v1/products/{product['id']}"
    slug_url = f"/api/v1/products/by-slug/{product['slug']}"
    listing = {"category": category["slug"]}
    for api in (first, second):  # both warm their view of the cache
        assert (await api.client.get(url)).json()["price"] == "5.00"
        assert (await api.client.get(slug_url)).status_code == 200
        assert (await api.client.get("/api/v1/products", params=listing)).json()["items"][0]["price"] == "5.00"

    updated = await second.client.patch(url, json={"price": "6.00"}, headers=await second.admin_headers())
    assert updated.status_code == 200
    assert (await first.client.get(url)).json()["price"] == "6.00"
    assert (await first.client.get(slug_url)).json()["price"] == "6.00"
    assert (await first.client.get("/api/v1/products", params=listing)).json()["items"][0]["price"] == "6.00"

    assert (await first.client.delete(url, headers=await first.admin_headers())).status_code == 204
    assert_error(await second.client.get(url), 404, "NOT_FOUND")
    assert (await second.client.get("/api/v1/products", params=listing)).json()["items"] == []
