"""Idempotent calls: ``Idempotency-Key`` on the calls that create (orders, checkout).

One wrapper at the edge, shared by HTTP and MCP, around a use case that returns a
model. It stores the response the first call produced and replays it; the use
case itself knows nothing of keys or responses. One unit of work: the key is
claimed, the use case runs and its response is stored against the key, and all of
it commits together or not at all. A call that fails leaves no trace of its key
(a retry simply runs), and a claim can never outlive the work it guards.

A concurrent call with the same key must not wait for the first one's commit (it
would hold a connection for as long): on PostgreSQL the claim takes a
transaction-scoped advisory lock on (user, key) without waiting, and a call that
cannot get it is answered 409 at once; on SQLite a unit of work that writes holds
the database's write lock from its BEGIN, so the second call runs after the first
committed, and finds its answer.

A second call with the key finds the row: a different request is a 422; a stored
response is replayed. A client error (4xx) of the use case is its answer too: it
is stored in a unit of work of its own after the rollback, so a retry replays it.
Rows claimed by the earlier three-step design (claim committed first, with a
lease) are still honoured: a live lease is a 409, an expired one is taken over.
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
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, bindparam, delete, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storefront.core.db import Database
from storefront.core.errors import AppError, Conflict, InvalidInput, ReplayedRefusal, error_body
from storefront.core.jobs import JobContext
from storefront.core.models import Base, UTCDateTime, utcnow
from storefront.core.repository import run_prebuilt, table_of

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


# PostgreSQL: the claim in one round trip. The advisory lock (taken without waiting, held
# to the end of the transaction) comes first, so the INSERT never waits on a concurrent
# uncommitted claim of the same key: every claim of a key holds its lock. ``held`` false:
# that call is still running; ``claimed`` null: the key exists, committed.
_PG_CLAIM = text(
    """
    WITH lock AS (SELECT pg_try_advisory_xact_lock(CAST(:lock AS BIGINT)) AS held),
    claim AS (
        INSERT INTO idempotency_keys (user_id, key, request_hash, locked_until, created_at, expires_at)
        SELECT CAST(:user_id AS INTEGER), CAST(:key AS VARCHAR), CAST(:request_hash AS VARCHAR),
            CAST(:locked_until AS TIMESTAMPTZ), CAST(:created_at AS TIMESTAMPTZ), CAST(:expires_at AS TIMESTAMPTZ)
        FROM lock WHERE held
        ON CONFLICT (user_id, key) DO NOTHING
        RETURNING id
    )
    SELECT (SELECT held FROM lock) AS held, (SELECT id FROM claim) AS claimed
    """
)


def advisory_lock_id(user_id: int, key: str) -> int:
    """The advisory lock of a (user, key): 64 bits of a hash (a collision only makes one
    of two concurrent calls a retryable 409)."""
    digest = hashlib.blake2b(f"idempotency:{user_id}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


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
        fingerprint = request_hash(operation, request)
        claimed = False
        try:
            async with self.db.session_scope() as session:
                stored = await self._claim(session, user_id, key, fingerprint)
                if stored is None:
                    claimed = True
                    model = await work(session)
                    body = model.model_dump_json().encode()
                    await _store(session, user_id, key, status, body)
        except AppError as exc:
            if claimed and exc.status_code < 500 and not exc.keep_changes:
                # The request was processed and refused: that is its answer, replayed on retry.
                # The rollback took the claim with it; the refusal is stored as a new claim.
                refusal = json.dumps(error_body(exc.code, exc.message, exc.details), separators=(",", ":"))
                await self._store_refusal(user_id, key, fingerprint, exc.status_code, refusal.encode())
            raise
        if stored is not None:
            stored_status, stored_body = stored
            if stored_status >= 400:
                raise ReplayedRefusal(stored_status, stored_body)
            return Answer(stored_status, schema.model_validate_json(stored_body), stored_body, replayed=True)
        return Answer(status, model, body, replayed=False)

    async def _claim(self, session: AsyncSession, user_id: int, key: str, fingerprint: str) -> tuple[int, bytes] | None:
        """Claim the key in ``session``'s unit of work (None), or find its stored answer."""
        now = datetime.now(UTC)
        values = {
            "user_id": user_id,
            "key": key,
            "request_hash": fingerprint,
            "locked_until": now + LEASE,
            "created_at": now,
            "expires_at": now + self.ttl,
        }
        if self.db.dialect == "postgresql":
            claim = (await run_prebuilt(session, _PG_CLAIM, {**values, "lock": advisory_lock_id(user_id, key)})).one()
            if not claim.held:
                raise IdempotencyInProgress()  # a concurrent call holds the key, uncommitted
            if claim.claimed is not None:
                return None
        else:
            claimed = (await run_prebuilt(session, _SQLITE_CLAIM, values)).scalar()
            if claimed is not None:
                return None
        # The key exists, committed: look at it.
        row = (
            await session.execute(
                select(
                    IdempotencyKey.id,
                    IdempotencyKey.request_hash,
                    IdempotencyKey.response_status,
                    IdempotencyKey.response_body,
                    IdempotencyKey.locked_until,
                ).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
            )
        ).one()
        if row.request_hash != fingerprint:
            raise IdempotencyKeyReused()
        if row.response_status is not None and row.response_body is not None:
            return row.response_status, row.response_body.encode()
        # A claim committed without an answer (the earlier three-step design): in progress
        # while its lease lasts; after that, its call died and this one takes the key over.
        if row.locked_until is not None and row.locked_until > now:
            raise IdempotencyInProgress()
        taken = await session.scalar(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == row.id, IdempotencyKey.response_status.is_(None))
            .values(locked_until=now + LEASE)
            .returning(IdempotencyKey.id)
        )
        if taken is None:
            raise IdempotencyInProgress()
        return None

    async def _store_refusal(self, user_id: int, key: str, fingerprint: str, status: int, body: bytes) -> None:
        try:
            async with self.db.session_scope() as session:
                if await self._claim(session, user_id, key, fingerprint) is None:
                    await _store(session, user_id, key, status, body)
        except AppError:
            pass  # another call with this key got there first: its answer stands


# Built once, on table columns, and run on the connection (core.repository.run_prebuilt):
# per call through the ORM it cost more CPU than its round trip (docs/performance.md, row 4).
_KEYS = table_of(IdempotencyKey).c
_SQLITE_CLAIM = (
    sqlite_insert(table_of(IdempotencyKey))
    .on_conflict_do_nothing(index_elements=["user_id", "key"])
    .returning(_KEYS.id)
)
_STORE = (
    update(table_of(IdempotencyKey))
    .where(_KEYS.user_id == bindparam("owner"), _KEYS.key == bindparam("given_key"))
    .values(response_status=bindparam("status"), response_body=bindparam("body"), locked_until=None)
)


async def _store(session: AsyncSession, user_id: int, key: str, status: int, body: bytes) -> None:
    await run_prebuilt(session, _STORE, {"owner": user_id, "given_key": key, "status": status, "body": body.decode()})


async def purge_expired_keys(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The hourly job: keys are kept at least their TTL, then forgotten."""
    async with ctx.db.session_scope() as session:
        result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < datetime.now(UTC)))
    log.info("idempotency_keys_purged", removed=int(getattr(result, "rowcount", 0) or 0))
