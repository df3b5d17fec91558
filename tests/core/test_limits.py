"""One client cannot take a whole process: requests in progress per address, live
streams per account, and a deadline for request bodies (real sockets)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx

from tests.conftest import AppFactory
from tests.helpers import Api, assert_error, serve


@contextlib.asynccontextmanager
async def open_stream(client: httpx.AsyncClient, headers: dict[str, str]) -> AsyncIterator[int]:
    """A live notification stream, held open; yields its status."""
    async with client.stream("GET", "/api/v1/notifications/stream", headers=headers) as response:
        if response.status_code != 200:
            yield response.status_code
            return
        connected = asyncio.Event()

        async def read() -> None:
            # Read on for as long as the stream is held (leaving the iterator would end it).
            async for line in response.aiter_lines():
                if line == ": connected":
                    connected.set()

        reader = asyncio.create_task(read())
        try:
            await asyncio.wait_for(connected.wait(), 10)
            yield response.status_code
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)


async def test_an_address_gets_only_so_many_requests_in_progress(make_api: AppFactory) -> None:
    api: Api = await make_api(max_requests_per_client=2, max_streams_per_user=10)
    buyer = await api.customer()
    async with serve(api.app) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:
        async with open_stream(client, buyer) as first, open_stream(client, buyer) as second:
            assert (first, second) == (200, 200)
            refused = await client.get("/api/v1/products")
            assert_error(refused, 429, "RATE_LIMITED")
            assert refused.headers["retry-after"] == "1"
            # Probes always get through.
            assert (await client.get("/health/live")).status_code == 200
            assert (await client.get("/health/ready")).status_code == 200
        assert (await client.get("/api/v1/products")).status_code == 200


async def test_an_account_gets_only_so_many_live_streams(make_api: AppFactory) -> None:
    api: Api = await make_api(max_streams_per_user=2)
    buyer, other = await api.customer(), await api.customer()
    async with serve(api.app) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:
        async with open_stream(client, buyer) as first, open_stream(client, buyer) as second:
            assert (first, second) == (200, 200)
            async with open_stream(client, buyer) as third:
                assert third == 429
            async with open_stream(client, other) as others:
                assert others == 200
        # Closed streams give their slots back.
        async with open_stream(client, buyer) as again:
            assert again == 200


async def _raw_post(port: int, declared: int, sent: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    writer.write(head.encode() + sent)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()


async def test_a_body_that_does_not_arrive_in_time_gets_408(make_api: AppFactory) -> None:
    api: Api = await make_api(body_read_timeout_seconds=0.5)
    async with serve(api.app) as base:
        port = int(base.rsplit(":", 1)[1])
        answer = await _raw_post(port, 99999, b"{")
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 408 " in status_line, answer
    assert b'"code":"REQUEST_TIMEOUT"' in rest
