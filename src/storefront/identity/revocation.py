"""The token denylist: Redis keys with a TTL when configured, a table otherwise."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.identity.models import TokenRevocation


class RevocationStore(Protocol):
    async def revoke(self, key: str, until: datetime) -> None: ...

    async def any_revoked(self, keys: list[str]) -> bool: ...


class RedisRevocationStore:
    prefix = "storefront:revoked:"

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def revoke(self, key: str, until: datetime) -> None:
        ttl = int((until - datetime.now(UTC)).total_seconds()) + 1
        if ttl > 0:
            await self._redis.set(self.prefix + key, b"1", ex=ttl)

    async def any_revoked(self, keys: list[str]) -> bool:
        return bool(await self._redis.exists(*(self.prefix + key for key in keys)))


class DatabaseRevocationStore:
    """Writes go through the caller's unit of work, so they commit with it."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def revoke(self, key: str, until: datetime) -> None:
        now = datetime.now(UTC)
        # Housekeeping on the (rare) write path keeps the table small without a job.
        await self._session.execute(delete(TokenRevocation).where(TokenRevocation.expires_at < now))
        existing = await self._session.get(TokenRevocation, key)
        if existing is None:
            self._session.add(TokenRevocation(key=key, expires_at=until))
        elif existing.expires_at < until:
            existing.expires_at = until
        await self._session.flush()

    async def any_revoked(self, keys: list[str]) -> bool:
        found = await self._session.scalar(
            select(TokenRevocation.key)
            .where(TokenRevocation.key.in_(keys), TokenRevocation.expires_at > datetime.now(UTC))
            .limit(1)
        )
        return found is not None


def revocation_store(redis: Redis | None, session: AsyncSession) -> RevocationStore:
    return RedisRevocationStore(redis) if redis is not None else DatabaseRevocationStore(session)
