"""Rate limits on the ``limits`` library: Redis when configured, process memory otherwise.

With Redis, counts are shared by every process. While Redis is down (or too slow:
``REDIS_TIMEOUT_SECONDS``) each process counts in its own memory instead
(docs/decisions.md, "Redis down"): failing open would let an attacker guess passwords
unthrottled for as long as Redis is out, failing closed would lock every user out.
With N processes the allowance during an outage is at most N times the limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from storefront.core.errors import RateLimited
from storefront.core.fallback import REDIS_FAILURES, Breaker

T = TypeVar("T")
_FAILURES: tuple[type[Exception], ...] = (StorageError, *REDIS_FAILURES)


class RateLimiter:
    def __init__(self, redis_url: str | None, *, timeout: float = 0.5, retry_seconds: float = 5.0) -> None:
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        self._breaker = Breaker("rate limits", "counted in this process's memory", retry_seconds)
        if redis_url:
            # redis-py, the client the rest of the app uses, rather than a second one.
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            storage = RedisStorage(
                uri,
                implementation="redispy",
                key_prefix="storefront-limits",
                wrap_exceptions=True,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
            )
            self._shared = MovingWindowRateLimiter(storage)

    async def _call(self, operation: Callable[[MovingWindowRateLimiter], Awaitable[T]]) -> T:
        if self._shared is not None and not self._breaker.open:
            try:
                result = await operation(self._shared)
            except _FAILURES as exc:
                self._breaker.trip(exc)
            else:
                self._breaker.succeeded()
                return result
        return await operation(self._local)

    @staticmethod
    def parse(limit: str) -> RateLimitItem:
        return parse(limit)

    async def check(self, limit: RateLimitItem, *keys: str, message: str) -> None:
        """Raise ``RateLimited`` (with ``Retry-After``) when the window is already full."""
        if await self.allows(limit, *keys):
            return
        stats = await self._call(lambda limiter: limiter.get_window_stats(limit, *keys))
        raise RateLimited(message, retry_after=math.ceil(stats.reset_time - time.time()))

    async def allows(self, limit: RateLimitItem, *keys: str) -> bool:
        """Whether the window has room for another hit (nothing is counted)."""
        return await self._call(lambda limiter: limiter.test(limit, *keys))

    async def hit(self, limit: RateLimitItem, *keys: str) -> None:
        await self._call(lambda limiter: limiter.hit(limit, *keys))

    async def clear(self, limit: RateLimitItem, *keys: str) -> None:
        await self._call(lambda limiter: limiter.clear(limit, *keys))
