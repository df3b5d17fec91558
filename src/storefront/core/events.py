"""Publish/subscribe for live pushes (server-sent events).

In-process queues by default; Redis pub/sub when configured, so an event
published by a worker reaches a client connected to any API process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

PREFIX = "storefront:events:"
log = structlog.get_logger("storefront.events")


class EventBus(Protocol):
    async def publish(self, channel: str, data: str) -> None: ...

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[AsyncIterator[str]]: ...


class LocalEventBus:
    def __init__(self, max_queued: int = 100) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)
        self._max_queued = max_queued

    async def publish(self, channel: str, data: str) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            if queue.full():  # a stalled client loses its oldest events, never blocks the publisher
                queue.get_nowait()
            queue.put_nowait(data)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(self._max_queued)
        self._subscribers[channel].add(queue)

        async def messages() -> AsyncIterator[str]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._subscribers[channel].discard(queue)
            if not self._subscribers[channel]:
                del self._subscribers[channel]


class RedisEventBus:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        # Pub/sub channels belong to the whole Redis server, not to a database: without the
        # database number in the name, two shops sharing a server on DB 0 and DB 1 (staging
        # and production, say) would push each other's notifications to users with the same id.
        self._prefix = f"{PREFIX}{redis.connection_pool.connection_kwargs.get('db', 0)}:"

    async def publish(self, channel: str, data: str) -> None:
        # A live push is best effort: what it announces is already stored (a notification
        # row), and a client that missed it reads it from the list. So Redis being down, or
        # a pooled connection to a Redis that restarted, costs the push, not an error.
        try:
            await self._redis.publish(self._prefix + channel, data)
        except (RedisError, OSError) as exc:
            log.warning("event_not_pushed", channel=channel, error=repr(exc)[:300])

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._prefix + channel)

        async def messages() -> AsyncIterator[str]:
            async for message in pubsub.listen():
                data = message.get("data")
                yield data.decode() if isinstance(data, bytes) else str(data)

        try:
            yield messages()
        finally:
            # With Redis gone, unsubscribing fails too: the connection is closed regardless.
            with contextlib.suppress(RedisError, OSError):
                await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]
