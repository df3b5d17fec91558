"""Idempotent requests: ``Idempotency-Key`` on ``POST /orders``.

Three short units of work, because "still in progress" must be visible to a
concurrent request before the order's own transaction commits:

1. claim the key (commit): a row with the request's hash and a lease;
2. do the work and store its response in the same transaction as the order;
3. only if step 2 failed: store a client error (4xx) as the key's response, so a
   retry replays it, or release the key after a server error, so a retry runs.

A second request with the key finds the row: a different body is a 422; a stored
response is replayed; a live lease is a 409; an expired lease (the first request
died) is taken over.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.db import Database
from storefront.core.errors import AppError, error_body
from storefront.orders.errors import IdempotencyInProgress, IdempotencyKeyReused
from storefront.orders.models import IdempotencyKey

LEASE = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: bytes
    replayed: bool


Work = Callable[[AsyncSession], Awaitable[tuple[int, bytes]]]


def request_hash(payload: object) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Idempotency:
    def __init__(self, db: Database, ttl: timedelta) -> None:
        self.db = db
        self.ttl = ttl

    async def run(self, user_id: int, key: str, fingerprint: str, work: Work) -> StoredResponse:
        stored = await self._claim(user_id, key, fingerprint)
        if stored is not None:
            return stored
        try:
            async with self.db.session_scope() as session:
                status, body = await work(session)
                await self._store(session, user_id, key, status, body)
        except AppError as exc:
            if exc.status_code < 500:
                # The request was processed and refused: that is its answer, replayed on retry.
                body = json.dumps(error_body(exc.code, exc.message, exc.details), separators=(",", ":")).encode()
                async with self.db.session_scope() as session:
                    await self._store(session, user_id, key, exc.status_code, body)
            else:
                await self._release(user_id, key)
            raise
        except BaseException:
            await self._release(user_id, key)
            raise
        return StoredResponse(status, body, replayed=False)

    async def _claim(self, user_id: int, key: str, fingerprint: str) -> StoredResponse | None:
        now = datetime.now(UTC)
        try:
            async with self.db.session_scope() as session:
                session.add(
                    IdempotencyKey(
                        user_id=user_id,
                        key=key,
                        request_hash=fingerprint,
                        locked_until=now + LEASE,
                        expires_at=now + self.ttl,
                    )
                )
                await session.flush()
            return None
        except IntegrityError:
            pass  # the key exists: look at it
        async with self.db.session_scope() as session:
            row = await session.scalar(
                select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
            )
            if row is None:  # released in between: the caller may simply retry
                raise IdempotencyInProgress()
            if row.request_hash != fingerprint:
                raise IdempotencyKeyReused()
            if row.response_status is not None and row.response_body is not None:
                return StoredResponse(row.response_status, row.response_body.encode(), replayed=True)
            if row.locked_until is not None and row.locked_until > now:
                raise IdempotencyInProgress()
            # The first request died holding the key: take it over, if nobody else just did.
            taken = await session.scalar(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == row.id, IdempotencyKey.locked_until == row.locked_until)
                .values(locked_until=now + LEASE)
                .returning(IdempotencyKey.id)
            )
            if taken is None:
                raise IdempotencyInProgress()
            return None

    async def _store(self, session: AsyncSession, user_id: int, key: str, status: int, body: bytes) -> None:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
            .values(response_status=status, response_body=body.decode(), locked_until=None)
        )

    async def _release(self, user_id: int, key: str) -> None:
        async with self.db.session_scope() as session:
            await session.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.user_id == user_id,
                    IdempotencyKey.key == key,
                    IdempotencyKey.response_status.is_(None),
                )
            )


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < datetime.now(UTC)))
    return int(getattr(result, "rowcount", 0) or 0)
