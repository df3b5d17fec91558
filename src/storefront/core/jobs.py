"""Background jobs: a transactional outbox in the database, delivered by taskiq.

A job is a row written in the same transaction as the change it follows
(``enqueue``), so it exists exactly when that change committed. After the
commit its id is handed to the broker (taskiq: in-process by default, a Redis
stream when configured) and a worker runs it. The row, not the broker, is the
source of truth:

- a worker *claims* a job with a conditional UPDATE that sets a lease; only one
  claim can win, so a job delivered twice runs once at a time;
- a worker that dies mid-job leaves an expired lease, and the sweeper (running
  in every worker, and in the API process without Redis) hands the job out again;
- a failing job is retried with exponential backoff and jitter, and after
  ``max_attempts`` it is ``dead``: visible to admins, and replayable.

Delivery is therefore at least once; handlers make their effects idempotent.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import structlog
from sqlalchemy import (
    JSON,
    CursorResult,
    Index,
    String,
    Text,
    Update,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from taskiq import AsyncBroker

from storefront.core.batching import Batches
from storefront.core.db import Database, after_commit
from storefront.core.errors import Conflict, NotFound
from storefront.core.models import Base, UTCDateTime, utcnow
from storefront.core.repository import run_prebuilt, table_of

log = structlog.get_logger("storefront.jobs")


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_available_at", "status", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    # At most one job per key (e.g. one purge per hour across every process).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# Built once and run on the connection (core.repository.run_prebuilt): through the ORM,
# each call rebuilt it (docs/performance.md, issue 16 row 4). The columns' Python defaults
# (status, attempts, times) still apply: they are the table's.
_INSERT_JOBS = insert(table_of(Job)).returning(table_of(Job).c.id, sort_by_parameter_order=True)


class BrokerUnavailable(Exception):
    """The broker (Redis) cannot take a job now; its row stays pending for the sweep."""


class Dispatcher(Protocol):
    async def dispatch(self, job_ids: Sequence[int]) -> None:
        """Hand these jobs out (to Redis: in one round trip); raise ``BrokerUnavailable``
        when the broker cannot take them now (their rows stay pending for the sweep)."""

    async def waiting(self) -> int | None:
        """How many hand-outs the broker holds that no worker has read yet; None when it
        cannot tell (the sweep then assumes none)."""


class JobQueue:
    """Writes jobs in the caller's unit of work and hands them out after its commit."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    def enqueue(
        self,
        session: AsyncSession,
        name: str,
        payload: dict[str, Any],
        *,
        max_attempts: int = 8,
        run_at: datetime | None = None,
    ) -> Job:
        """Write a job in the caller's unit of work; ``run_at`` defers it (the sweeper hands it out when due)."""
        job = Job(name=name, payload=payload, max_attempts=max_attempts)
        if run_at is not None:
            job.available_at = run_at
            session.add(job)
            return job
        session.add(job)
        self._hand_out_after_commit(session, lambda: [job.id])  # the id exists once flushed
        return job

    async def enqueue_many(
        self,
        session: AsyncSession,
        jobs: Sequence[tuple[str, dict[str, Any]]],
        *,
        run_at: datetime | None = None,
    ) -> list[int]:
        """Write jobs (name, payload) in the caller's unit of work with one INSERT, now, and hand
        them out after its commit; their ids, in order. ``run_at`` defers them all.

        The same rows as ``enqueue``, without a unit-of-work flush: for the hot paths (an order
        placed writes two to four jobs; the flush cost more than the statement).
        """
        if not jobs:
            return []
        rows: list[dict[str, Any]] = [{"name": name, "payload": payload} for name, payload in jobs]
        if run_at is not None:
            for row in rows:
                row["available_at"] = run_at
        ids = list((await run_prebuilt(session, _INSERT_JOBS, rows)).scalars())
        if run_at is None:
            self._hand_out_after_commit(session, lambda: ids)
        return ids

    def _hand_out_after_commit(self, session: AsyncSession, job_ids: Callable[[], list[int]]) -> None:
        """Hand the jobs out once ``session`` commits. If the broker is down, the rows stay
        pending and the sweeper hands them out later."""
        dispatcher = self.dispatcher

        async def hand_out() -> None:
            ids = job_ids()
            try:
                await dispatcher.dispatch(ids)
            except BrokerUnavailable:
                log.info("job_handout_deferred", job_ids=ids)  # the sweeper finds them

        after_commit(session, hand_out)


class LeaseLost(Exception):
    """This attempt outlived its lease and another attempt has claimed the job since."""


# The statements of every job's life, built once on the table and run on the connection
# (``run_prebuilt``): per call through the ORM each was rebuilt, a visible share of a job's
# CPU (docs/performance.md, issue 16 row 5).
_JOBS = table_of(Job).c
_NOW = bindparam("now", type_=UTCDateTime())
# Due and pending, or running on a lease that ran out (its worker died); for a batch of ids.
_CLAIM = (
    update(table_of(Job))
    .where(
        _JOBS.id.in_(bindparam("job_ids", expanding=True)),
        or_(
            (_JOBS.status == JobStatus.PENDING) & (_JOBS.available_at <= _NOW),
            (_JOBS.status == JobStatus.RUNNING) & (_JOBS.locked_until < _NOW),
        ),
    )
    .values(status=JobStatus.RUNNING, locked_until=bindparam("lease_end"), attempts=_JOBS.attempts + 1)
    .returning(_JOBS.id, _JOBS.name, _JOBS.payload, _JOBS.attempts, _JOBS.max_attempts)
)
# An attempt's outcome is written only while the row is still that attempt's: one that
# outlived its lease must not overwrite the state of the attempt that claimed the job
# since (a retry would hand a running job out again).
_THIS_ATTEMPT = and_(
    _JOBS.id == bindparam("job_id"), _JOBS.status == JobStatus.RUNNING, _JOBS.attempts == bindparam("attempt")
)
_ENDED = (  # done or dead
    update(table_of(Job))
    .where(_THIS_ATTEMPT)
    .values(locked_until=None, status=bindparam("outcome"), finished_at=_NOW, last_error=bindparam("error"))
)
# Attempts that succeeded, by (id, attempt); each only while the row is still that attempt's.
_SUCCEEDED = (
    update(table_of(Job))
    .where(
        tuple_(_JOBS.id, _JOBS.attempts).in_(bindparam("job_attempts", expanding=True)),
        _JOBS.status == JobStatus.RUNNING,
    )
    .values(locked_until=None, status=JobStatus.DONE, finished_at=_NOW, last_error=None)
    .returning(_JOBS.id, _JOBS.attempts)
)
_RETRY = (
    update(table_of(Job))
    .where(_THIS_ATTEMPT)
    .values(
        locked_until=None, status=JobStatus.PENDING, available_at=bindparam("retry_at"), last_error=bindparam("error")
    )
)


async def _attempt_outcome(session: AsyncSession, statement: Update, job_id: int, attempt: int, **values: Any) -> bool:
    """Write ``_ENDED`` or ``_RETRY`` for this attempt; whether the row was still its."""
    result: CursorResult[Any] = await run_prebuilt(  # type: ignore[assignment]
        session, statement, {"job_id": job_id, "attempt": attempt, **values}
    )
    return result.rowcount == 1


class JobContext:
    """What a handler knows of the attempt it runs, and its way to finish the job in its own
    transaction."""

    __slots__ = ("attempt", "db", "finished", "job_id")

    def __init__(self, job_id: int, attempt: int, db: Database) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.db = db
        self.finished = False  # set once a transaction that marked the job done committed

    async def finish_in(self, session: AsyncSession) -> None:
        """Mark the job done in the handler's last unit of work: its effects and its
        completion commit together, one transaction fewer per job, and a crash cannot fall
        between them (the job would run again). Raises ``LeaseLost``, so the transaction
        rolls back, when another attempt has claimed the job since this one's lease ran out:
        that attempt does the work. In an ``autocommit_scope`` the mark lands on its own,
        after the handler's writes: for handlers whose writes are safe to repeat."""
        done = {"outcome": JobStatus.DONE, "error": None, "now": datetime.now(UTC)}
        if not await _attempt_outcome(session, _ENDED, self.job_id, self.attempt, **done):
            raise LeaseLost(f"job {self.job_id}: attempt {self.attempt} lost its lease to a later attempt")

        async def committed() -> None:
            self.finished = True

        after_commit(session, committed)


Handler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]


class RetryLater(Exception):
    """A handler's way to say "not now" (e.g. another worker holds the same email)."""


def backoff(attempt: int, base: float, cap: float = 600.0) -> float:
    """Exponential backoff with ±20% jitter, so retries of many jobs do not stampede."""
    delay: float = min(cap, base * 2 ** (attempt - 1))
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


class JobRunner:
    def __init__(
        self,
        db: Database,
        handlers: dict[str, Handler],
        *,
        lease: float,
        retry_base: float,
        concurrency: int | None = None,
    ) -> None:
        self.db = db
        self.handlers = handlers
        self.lease = timedelta(seconds=lease)
        self.retry_base = retry_base
        # At most this many jobs claimed and running at once (None: no bound). A broker hands
        # out up to a hundred at a time and a sweep up to two hundred; unbounded, they all
        # queue on the pool, and on a machine slow enough some wait past its timeout and
        # spend an attempt on it (seen in a profiled drain: 19 hand-outs failed, one job
        # retried). A job waiting for a slot has claimed nothing: its row stays pending,
        # free for any worker. Off by default: a bound at the pool's size cost a third of
        # a worker's throughput (JOB_CONCURRENCY, docs/configuration.md).
        self._slots = asyncio.Semaphore(concurrency) if concurrency else None
        # Shutdown (``drain``): no new claims once closing; the tasks running ``run``.
        self.closing = False
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._turned_away: set[int] = set()
        # The attempts this process claimed and has not finished, by (job id, attempt):
        # what ``drain`` hands back. By attempt, not by the task that asked: an id delivered
        # twice at once (a sweep and a redelivery) is asked for by two tasks and claimed by
        # one, and a claim can land for a task cancelled while it waited.
        self._leases: set[tuple[int, int]] = set()
        # Claims, and outcomes of attempts that succeeded, sent in batches: those asked for
        # in one turn of the event loop (a hand-out arrives at once) go out as one statement.
        # Each row is still claimed, and finished, by its own condition, so a job is claimed
        # once however its ids are batched.
        self._claims: Batches[int, Job | None] = Batches(self._claim_batch, None)
        self._successes: Batches[tuple[int, int], bool] = Batches(self._finish_batch, False)

    async def _claim_batch(self, job_ids: list[int]) -> dict[int, Job | None]:
        now = datetime.now(UTC)
        async with self.db.autocommit_scope() as session:  # one statement: no BEGIN/COMMIT
            values = {"job_ids": job_ids, "now": now, "lease_end": now + self.lease}
            rows = (await run_prebuilt(session, _CLAIM, values)).all()
        self._leases.update((row.id, row.attempts) for row in rows)
        return {
            row.id: Job(
                id=row.id, name=row.name, payload=row.payload, attempts=row.attempts, max_attempts=row.max_attempts
            )
            for row in rows
        }

    async def _finish_batch(self, attempts: list[tuple[int, int]]) -> dict[tuple[int, int], bool]:
        async with self.db.autocommit_scope() as session:  # one statement: no BEGIN/COMMIT
            values = {"job_attempts": attempts, "now": datetime.now(UTC)}
            rows = (await run_prebuilt(session, _SUCCEEDED, values)).all()
        return {(row.id, row.attempts): True for row in rows}

    async def run(self, job_id: int) -> None:
        """Run one job if it can be claimed; record the outcome."""
        if self.closing:
            # Shutting down: the row stays pending; ``drain`` hands it back to the broker.
            self._turned_away.add(job_id)
            return
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - always true inside a coroutine
        self._in_flight.add(task)
        try:
            async with self._slots or nullcontext():
                if self.closing:  # shutdown began while it waited for a slot
                    self._turned_away.add(job_id)
                    return
                await self._run(job_id)
        finally:
            self._in_flight.discard(task)

    async def _run(self, job_id: int) -> None:
        job = await self._claims.ask(job_id)
        if job is None:
            return  # done, dead, not yet due, or another worker holds it
        try:
            await self._attempt(job)
        except asyncio.CancelledError:
            raise  # cut short (a worker stopping): the lease stays listed for ``drain``
        except BaseException:
            self._leases.discard((job.id, job.attempts))
            raise
        self._leases.discard((job.id, job.attempts))

    async def _attempt(self, job: Job) -> None:
        handler = self.handlers.get(job.name)
        context = JobContext(job_id=job.id, attempt=job.attempts, db=self.db)
        try:
            if handler is None:
                raise LookupError(f"no handler for job {job.name!r}")
            await handler(context, job.payload)
        except LeaseLost as exc:  # the row is the later attempt's now: leave it alone
            log.warning("job_lease_lost", job_id=job.id, job=job.name, attempt=job.attempts, error=str(exc))
        except Exception as exc:
            await self._failed(job, exc)
        else:
            # Unless the handler finished it in its own transaction.
            if context.finished or await self._successes.ask((job.id, job.attempts)):
                log.info("job_done", job_id=job.id, job=job.name, attempt=job.attempts)
            else:
                log.warning("job_lease_lost", job_id=job.id, job=job.name, attempt=job.attempts)

    async def drain(self, grace: float) -> list[int]:
        """Stop claiming; let the jobs in flight finish within ``grace`` seconds; cancel the
        rest and hand their leases back at once (not when they expire), so another worker
        can take them now. Returns the ids of the jobs to hand out again: those cut short,
        and those delivered to this process while it was closing."""
        self.closing = True
        late: set[asyncio.Task[Any]] = set()
        if self._in_flight:
            log.info("jobs_draining", in_flight=len(self._in_flight), grace=grace)
            _, late = await asyncio.wait(set(self._in_flight), timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        # A claim or a success of a job cut short may still be on its way.
        await self._claims.settled()
        await self._successes.settled()
        if not self._leases:
            return sorted(self._turned_away)
        async with self.db.session_scope() as session:
            result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
                update(Job)
                .where(tuple_(Job.id, Job.attempts).in_(sorted(self._leases)), Job.status == JobStatus.RUNNING)
                # The cut-short attempt does not count against the job's max_attempts.
                .values(status=JobStatus.PENDING, locked_until=None, available_at=utcnow(), attempts=Job.attempts - 1)
                .returning(Job.id)
                .execution_options(synchronize_session=False)
            )
            released = list(result.scalars())
        self._leases.clear()
        log.warning("jobs_released", job_ids=released)
        return sorted(self._turned_away.union(released))

    async def _record(self, job: Job, statement: Update, **values: Any) -> bool:
        """This attempt's outcome, one statement committed on its own; False, and logged,
        when the row is another attempt's now (``_THIS_ATTEMPT``)."""
        async with self.db.autocommit_scope() as session:
            if await _attempt_outcome(session, statement, job.id, job.attempts, **values):
                return True
        log.warning("job_lease_lost", job_id=job.id, job=job.name, attempt=job.attempts)
        return False

    async def _finish(self, job: Job, *, status: JobStatus, error: str | None) -> bool:
        return await self._record(job, _ENDED, outcome=status, error=error, now=datetime.now(UTC))

    async def _failed(self, job: Job, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if job.attempts >= job.max_attempts:
            if await self._finish(job, status=JobStatus.DEAD, error=error):
                log.error("job_dead", job_id=job.id, job=job.name, attempts=job.attempts, error=error)
            return
        delay = backoff(job.attempts, self.retry_base)
        available_at = datetime.now(UTC) + timedelta(seconds=delay)
        if not await self._record(job, _RETRY, retry_at=available_at, error=error):
            return
        level = log.info if isinstance(exc, RetryLater) else log.warning
        level("job_retry", job_id=job.id, job=job.name, attempt=job.attempts, retry_in=round(delay, 1), error=error)

    async def due(self, limit: int = 200, *, pending_due_by: datetime | None = None) -> list[int]:
        """Jobs that should be running and are not: pending and due (by ``pending_due_by``,
        now unless given), or with an expired lease."""
        now = datetime.now(UTC)
        async with self.db.session_scope(immediate=False) as session:  # a read: no write lock
            ids = await session.scalars(
                select(Job.id)
                .where(
                    or_(
                        (Job.status == JobStatus.PENDING) & (Job.available_at <= (pending_due_by or now)),
                        (Job.status == JobStatus.RUNNING) & (Job.locked_until < now),
                    )
                )
                .order_by(Job.id)
                .limit(limit)
            )
            return list(ids)


class Sweeper:
    """Periodically hands out due jobs (retries, and jobs whose worker died) and
    enqueues periodic jobs, once per period across every process."""

    def __init__(
        self, runner: JobRunner, dispatcher: Dispatcher, interval: float, periodic: dict[str, float] | None = None
    ) -> None:
        self.runner = runner
        self.dispatcher = dispatcher
        self.interval = interval
        self.periodic = periodic or {}
        self.depth = 0  # jobs waiting or running, as of the last sweep (a metric)

    async def _enqueue_periodic(self) -> None:
        now = datetime.now(UTC).timestamp()
        for name, period in self.periodic.items():
            # One key per period: whichever process gets here first creates the job.
            key = f"{name}:{int(now // period)}"
            try:
                async with self.runner.db.session_scope() as session:
                    session.add(Job(name=name, payload={}, dedupe_key=key, max_attempts=3))
                    await session.flush()
            except IntegrityError:
                continue

    async def measure_depth(self) -> int:
        async with self.runner.db.session_scope() as session:
            count = await session.scalar(
                select(func.count()).where(Job.status.in_([JobStatus.PENDING, JobStatus.RUNNING]))
            )
        self.depth = count or 0
        return self.depth

    async def sweep_once(self) -> int:
        await self._enqueue_periodic()
        await self.measure_depth()
        # A pending job is usually on its way: handed out after its commit and waiting in
        # the broker behind others. While the broker holds unread hand-outs, the sweep hands
        # out only the pending jobs due for longer than a lease (lost hand-outs: a failed
        # send, a trimmed stream; and retries, which only the sweep hands out). Handing out
        # every due job was, with a backlog, up to 200 duplicates a sweep, each read and
        # claimed for nothing (docs/performance.md, issue 16 row 5). Expired leases always.
        waiting = await self.dispatcher.waiting()
        pending_due_by = datetime.now(UTC) - self.runner.lease if waiting else None
        ids = await self.runner.due(pending_due_by=pending_due_by)
        if not ids:
            return 0
        try:
            await self.dispatcher.dispatch(ids)
        except BrokerUnavailable as exc:
            # Redis is down: the rows wait; the next sweep tries again.
            log.warning("sweep_deferred", due=len(ids), error=str(exc))
            return 0
        return len(ids)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except Exception:
                log.exception("sweep_failed")
            await asyncio.sleep(self.interval)


@dataclass(slots=True)
class JobSystem:
    """The job machinery of one process, built by ``storefront.runtime``."""

    broker: AsyncBroker
    runner: JobRunner
    queue: JobQueue
    sweeper: Sweeper
    # Without Redis there is no separate worker: the API process runs its jobs.
    runs_in_process: bool


class JobAdmin:
    """The engine's side of an admin's replay of a dead job, inside the caller's unit of work."""

    def __init__(self, session: AsyncSession, dispatcher: Dispatcher) -> None:
        self.session = session
        self.dispatcher = dispatcher

    async def retry(self, job_id: int) -> Job:
        job = await self.session.get(Job, job_id)
        if job is None:
            raise NotFound(f"Job {job_id} not found")
        if job.status != JobStatus.DEAD:
            raise Conflict(f"Job {job_id} is {job.status}; only dead jobs can be retried")
        job.status, job.attempts, job.finished_at = JobStatus.PENDING, 0, None
        job.available_at = datetime.now(UTC)
        await self.session.flush()
        dispatcher = self.dispatcher
        after_commit(self.session, lambda: dispatcher.dispatch([job_id]))
        return job
