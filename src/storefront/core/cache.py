"""The application cache (cashews): process memory by default, Redis when configured."""

from __future__ import annotations

from cashews import Cache as CashewsCache

from storefront.config import Settings

NAMESPACE = "storefront:cache:"


class Cache:
    """Bytes in, bytes out: values are already-serialised responses, never pickles.

    Keys are namespaced so a shared Redis can hold other applications' data.
    """

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.cache_enabled
        self.default_ttl = settings.cache_ttl_seconds
        self._cache = CashewsCache()
        if settings.redis_url:
            self._cache.setup(
                settings.redis_url,
                pickle_type="null",
                client_side=False,
                socket_timeout=1,
                socket_connect_timeout=1,
                disable=not self.enabled,
            )
        else:
            self._cache.setup(f"mem://?size={settings.cache_max_entries}", disable=not self.enabled)

    async def get(self, key: str) -> bytes | None:
        value = await self._cache.get(NAMESPACE + key)
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await self._cache.set(NAMESPACE + key, value, expire=ttl or self.default_ttl)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            await self._cache.delete(NAMESPACE + key)

    async def get_int(self, key: str) -> int:
        value = await self._cache.get(NAMESPACE + key)
        return int(value) if value is not None else 0

    async def incr(self, key: str) -> int:
        return await self._cache.incr(NAMESPACE + key)

    async def close(self) -> None:
        await self._cache.close()
