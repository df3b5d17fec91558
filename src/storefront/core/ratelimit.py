"""Rate limits on the ``limits`` library: Redis when configured, process memory otherwise."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from storefront.core.errors import RateLimited


class RateLimiter:
    def __init__(self, redis_url: str | None) -> None:
        self.storage: Storage
        if redis_url:
            # redis-py, the client the rest of the app uses, rather than a second one.
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            self.storage = RedisStorage(uri, implementation="redispy", key_prefix="storefront-limits")
        else:
            self.storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self.storage)

    @staticmethod
    def parse(limit: str) -> RateLimitItem:
        return parse(limit)

    async def check(self, limit: RateLimitItem, *keys: str, message: str) -> None:
        """Raise ``RateLimited`` (with ``Retry-After``) when the window is already full."""
        if await self._limiter.test(limit, *keys):
            return
        stats = await self._limiter.get_window_stats(limit, *keys)
        raise RateLimited(message, retry_after=math.ceil(stats.reset_time - time.time()))

    async def allows(self, limit: RateLimitItem, *keys: str) -> bool:
        """Whether the window has room for another hit (nothing is counted)."""
        return await self._limiter.test(limit, *keys)

    async def hit(self, limit: RateLimitItem, *keys: str) -> None:
        await self._limiter.hit(limit, *keys)

    async def clear(self, limit: RateLimitItem, *keys: str) -> None:
        await self._limiter.clear(limit, *keys)
