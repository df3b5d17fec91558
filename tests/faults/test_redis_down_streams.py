"""A live notification stream when Redis (its event bus) dies under it: the stream ends
with a retry hint rather than a cut connection, and once Redis is back a reconnecting
client gets its events again. A real server on a port, a private redis-server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from tests.conftest import make_settings
from tests.faults.services import PrivateRedis, private_database, running
from tests.helpers import serve

STREAM = "/api/v1/notifications/stream"


async def _lines(lines: AsyncIterator[str], until: str) -> list[str]:
    """The stream's next lines up to the first that starts with ``until`` (or its end)."""
    seen = []
    async for line in lines:
        seen.append(line)
        if line.startswith(until):
            break
    return seen


async def test_an_open_stream_ends_with_a_retry_hint_and_resumes_after_redis_returns(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    async with private_database(tmp_path) as url:
        settings = make_settings(tmp_path, database_url=url, redis_url=private_redis.url, jobs_inline=False)
        async with running(settings) as api:
            buyer = await api.customer()
            me = (await api.client.get("/api/v1/users/me", headers=buyer)).json()
            events = api.state.events
            async with serve(api.app) as base, httpx.AsyncClient(base_url=base, timeout=15) as client:
                async with client.stream("GET", STREAM, headers=buyer) as response:
                    lines = response.aiter_lines()
                    assert await _lines(lines, ": connected")
                    private_redis.kill()
                    killed = time.monotonic()
                    ending = await _lines(lines, "retry:")
                    ended = time.monotonic() - killed
                assert ": events unavailable" in ending
                assert ending[-1] == "retry: 5000"
                assert ended < 5  # measured: ms (the subscription's socket closes with the server)

                private_redis.start()
                async with client.stream("GET", STREAM, headers=buyer) as response:
                    assert response.status_code == 200
                    lines = response.aiter_lines()
                    assert await _lines(lines, ": connected")
                    await events.publish(f"user:{me['id']}:notifications", '{"hello": 1}')
                    assert (await _lines(lines, "data:"))[-1] == 'data: {"hello": 1}'
