"""Idempotent calls: ``Idempotency-Key`` on the calls that create (orders, checkout).

One wrapper at the edge, shared by HTTP and MCP, around a use case that returns a
model. It stores the response the first call produced and replays it; the use
case itself knows nothing of keys or responses. Three short units of work,
because "still in progress" must be visible to a concurrent call before the use
case's own transaction commits:

1. claim the key (commit): a row with the request's hash and a lease;
2. run the use case and store its response in the same transaction as its work;
3. only if step 2 failed: store a client error (4xx) as the key's response, so a
   retry replays it, or release the key after a server error, so a retry runs.

A second call with the key finds the row: a different request is a 422; a stored
response is replayed; a live lease is a 409; an expired lease (the first call
died) is taken over.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import structlog
from pydantic import BaseModel
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storefront.core.db import Database
from storefront.core.errors import AppError, Conflict, InvalidInput, ReplayedRefusal, error_body
from storefront.core.jobs import JobContext
from storefront.core.models import Base, UTCDateTime, utcnow

LEASE = timedelta(seconds=60)
# What a key may be: printable ASCII without spaces (it travels in a header), 1 to 255 characters.
KEY_PATTERN = r"^[\x21-\x7e]+$"
KEY_MAX_LENGTH = 255
# The job name predates this module (jobs already queued keep working).
PURGE_IDEMPOTENCY_KEYS = "orders.purge_idempotency_keys"
M = TypeVar("M", bound=BaseModel)
log = structlog.get_logger("storefront.idempotency")


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    # While in progress, locked_until bounds how long a crashed request blocks the key.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"

    def __init__(self) -> None:
        super().__init__("A request with this Idempotency-Key is still being processed; retry shortly")


class IdempotencyKeyReused(InvalidInput):
    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self) -> None:
        super().__init__("Idempotency-Key", "was already used with a different request body")
        self.message = "This Idempotency-Key was already used with a different request body"


@dataclass(frozen=True, slots=True)
class Answer(Generic[M]):
    """A call's response: its model, and the exact bytes first sent (a replay repeats them)."""

    status: int
    model: M
    body: bytes
    replayed: bool


def request_hash(operation: str, request: BaseModel) -> str:
    payload = {"operation": operation, "request": request.model_dump(mode="json")}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


Work = Callable[[AsyncSession], Awaitable[M]]


class IdempotentCalls:
    def __init__(self, db: Database, ttl: timedelta) -> None:
        self.db = db
        self.ttl = ttl

    async def run(
        self,
        user_id: int,
        key: str | None,
        operation: str,
        request: BaseModel,
        schema: type[M],
        work: Work[M],
        *,
        status: int = 201,
    ) -> Answer[M]:
        """Run ``work`` in one unit of work; with a key, at most once per (user, key).

        A replayed refusal raises ``ReplayedRefusal`` carrying the stored body.
        """
        if key is None:
            async with self.db.session_scope() as session:
                model = await work(session)
            return Answer(status, model, model.model_dump_json().encode(), replayed=False)
        stored = await self._claim(user_id, key, request_hash(operation, request))
        if stored is not None:
            stored_status, body = stored
            if stored_status >= 400:
                raise ReplayedRefusal(stored_status, body)
            return Answer(stored_status, schema.model_validate_json(body), body, replayed=True)
        try:
            async with self.db.session_scope() as session:
                model = await work(session)
                body = model.model_dump_json().encode()
                await _store(session, user_id, key, status, body)
        except AppError as exc:
            if exc.status_code < 500:
                # The request was processed and refused: that is its answer, replayed on retry.
                refusal = json.dumps(error_body(exc.code, exc.message, exc.details), separators=(",", ":"))
                async with self.db.session_scope() as session:
                    await _store(session, user_id, key, exc.status_code, refusal.encode())
            else:
                await self._release(user_id, key)
            raise
        except BaseException:
            await self._release(user_id, key)
            raise
        return Answer(status, model, body, replayed=False)

    async def _claim(self, user_id: int, key: str, fingerprint: str) -> tuple[int, bytes] | None:
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
                return row.response_status, row.response_body.encode()
            if row.locked_until is not None and row.locked_until > now:
                raise IdempotencyInProgress()
            # The first call died holding the key: take it over, if nobody else just did.
            taken = await session.scalar(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == row.id, IdempotencyKey.locked_until == row.locked_until)
                .values(locked_until=now + LEASE)
                .returning(IdempotencyKey.id)
            )
            if taken is None:
                raise IdempotencyInProgress()
            return None

    async def _release(self, user_id: int, key: str) -> None:
        async with self.db.session_scope() as session:
            await session.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.user_id == user_id,
                    IdempotencyKey.key == key,
                    IdempotencyKey.response_status.is_(None),
                )
            )


async def _store(session: AsyncSession, user_id: int, key: str, status: int, body: bytes) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        .values(response_status=status, response_body=body.decode(), locked_until=None)
    )


async def purge_expired_keys(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The hourly job: keys are kept at least their TTL, then forgotten."""
    async with ctx.db.session_scope() as session:
        result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < datetime.now(UTC)))
    log.info("idempotency_keys_purged", removed=int(getattr(result, "rowcount", 0) or 0))
