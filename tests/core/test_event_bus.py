"""Live events through Redis stay within their Redis database (pub/sub channels are
server-wide: two shops sharing one Redis server must not see each other's pushes)."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from storefront.core.events import RedisEventBus
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs Redis: runs in the PostgreSQL + Redis pass of .ci/run")


async def test_an_event_reaches_its_own_database_only() -> None:
    assert REDIS_URL is not None
    base = Redis.from_url(REDIS_URL)
    where = base.connection_pool.connection_kwargs
    # Far from this worker's database and its neighbours (other pytest-xdist workers use them).
    other = Redis(host=where["host"], port=where["port"], db=(int(where.get("db", 0)) + 8) % 16)
    try:
        mine, theirs = RedisEventBus(base), RedisEventBus(other)
        async with mine.subscribe("user:1:notifications") as own, theirs.subscribe("user:1:notifications") as foreign:
            await theirs.publish("user:1:notifications", "for the other shop")
            await mine.publish("user:1:notifications", "for this shop")
            assert await asyncio.wait_for(anext(own), 5) == "for this shop"
            assert await asyncio.wait_for(anext(foreign), 5) == "for the other shop"
            with pytest.raises(TimeoutError):  # nothing else arrives on either side
                await asyncio.wait_for(anext(own), 0.3)
    finally:
        await base.aclose()
        await other.aclose()
