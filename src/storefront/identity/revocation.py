"""The token denylist: a table, on both backends.

It used to live in Redis when Redis was configured, and that let a revoked token
work again: a Redis restarted without persistence (or flushed) forgot every
revocation, and while Redis was down every authenticated request answered 503.
In the database a revocation commits with the logout that made it (a logout that
rolls back revokes nothing), survives any Redis, and costs a primary-key lookup.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.identity.models import TokenRevocation


class RevocationStore(Protocol):
    async def revoke(self, key: str, until: datetime) -> None: ...

    async def any_revoked(self, keys: list[str]) -> bool: ...


class DatabaseRevocationStore:
    """Writes go through the caller's unit of work, so they commit with it."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def revoke(self, key: str, until: datetime) -> None:
        now = datetime.now(UTC)
        # Housekeeping on the (rare) write path keeps the table small without a job.
        await self._session.execute(delete(TokenRevocation).where(TokenRevocation.expires_at < now))
        # One statement, so concurrent revocations of one login (a stolen refresh token
        # replayed by several requests at once) cannot collide on the key.
        insert = postgresql.insert if self._session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = insert(TokenRevocation).values(key=key, expires_at=until)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[TokenRevocation.key],
                set_={"expires_at": statement.excluded.expires_at},
                where=TokenRevocation.expires_at < statement.excluded.expires_at,
            )
        )

    async def any_revoked(self, keys: list[str]) -> bool:
        found = await self._session.scalar(
            select(TokenRevocation.key)
            .where(TokenRevocation.key.in_(keys), TokenRevocation.expires_at > datetime.now(UTC))
            .limit(1)
        )
        return found is not None


def revocation_store(session: AsyncSession) -> RevocationStore:
    return DatabaseRevocationStore(session)
