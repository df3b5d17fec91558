"""The application cache (cashews): process memory by default, Redis when configured."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from cashews import Cache as CashewsCache
from cashews.exceptions import CacheBackendInteractionError

from storefront.config import Settings
from storefront.core.fallback import REDIS_FAILURES, Breaker

NAMESPACE = "storefront:cache:"
T = TypeVar("T")
# cashews wraps redis-py's errors in its own.
_FAILURES: tuple[type[Exception], ...] = (CacheBackendInteractionError, *REDIS_FAILURES)


class Cache:
    """Bytes in, bytes out: values are already-serialised responses, never pickles.

    Keys are namespaced so a shared Redis can hold other applications' data.

    It fails open: a Redis that is down or hung is a miss (reads go to the database), a
    write or an invalidation that cannot reach it is skipped. The breaker keeps a dead
    Redis from costing every request ``REDIS_TIMEOUT_SECONDS`` per call.
    """

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.cache_enabled
        self.default_ttl = settings.cache_ttl_seconds
        self._cache = CashewsCache()
        self._breaker = Breaker("cache", "misses: reads go to the database", settings.redis_retry_seconds)
        self._shared = bool(settings.redis_url)
        if settings.redis_url:
            timeout = settings.redis_timeout_seconds
            self._cache.setup(
                settings.redis_url,
                pickle_type="null",
                client_side=False,
                # Errors reach us (cashews would swallow them, with a traceback per call), so
                # the breaker sees them.
                suppress=False,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                wait_for_connection_timeout=timeout,
                disable=not self.enabled,
            )
        else:
            self._cache.setup(f"mem://?size={settings.cache_max_entries}", disable=not self.enabled)

    async def _call(self, operation: Callable[[], Awaitable[T]], default: T) -> T:
        if not self._shared:
            return await operation()
        if self._breaker.open:
            return default
        try:
            result = await operation()
        except _FAILURES as exc:
            self._breaker.trip(exc)
            return default
        self._breaker.succeeded()
        return result

    async def get(self, key: str) -> bytes | None:
        value = await self._call(lambda: self._cache.get(NAMESPACE + key), None)
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await self._call(lambda: self._cache.set(NAMESPACE + key, value, expire=ttl or self.default_ttl), False)

    async def delete(self, *keys: str) -> None:
        # Skipped while Redis is down: a product changed then may be served stale from
        # a Redis that comes back with its data, for at most CACHE_TTL_SECONDS.
        # One command for all of them (UNLINK k1 k2 ...): an order invalidates two keys per
        # product, and a round trip each was a visible share of its CPU (docs/performance.md).
        await self._call(lambda: self._cache.delete_many(*(NAMESPACE + key for key in keys)), None)

    async def get_int(self, key: str) -> int:
        value = await self._call(lambda: self._cache.get(NAMESPACE + key), None)
        return int(value) if value is not None else 0

    async def incr(self, key: str) -> int:
        return await self._call(lambda: self._cache.incr(NAMESPACE + key), 0)

    async def close(self) -> None:
        await self._cache.close()
