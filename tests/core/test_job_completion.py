"""A handler that finishes its job in its own transaction: the effects and the completion
commit together or not at all. And an attempt that lost its lease changes nothing, however
it ends: the row belongs to the attempt that claimed the job since."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from storefront.core.db import Database
from storefront.core.jobs import Job, JobContext, JobRunner, JobStatus

EFFECT = "effect.marker"  # a row the handler writes: its effect, visible afterwards


async def _job(db: Database, name: str) -> int:
    async with db.session_scope() as session:
        job = Job(name=name, payload={})
        session.add(job)
        await session.flush()
        return job.id


async def _rows(db: Database, job_id: int) -> tuple[Job, int]:
    async with db.session_scope() as session:
        job = (await session.scalars(select(Job).where(Job.id == job_id))).one()
        effects = len((await session.scalars(select(Job.id).where(Job.name == EFFECT))).all())
    return job, effects


async def _effect_then_finish(ctx: JobContext, fail_after: bool) -> None:
    async with ctx.db.session_scope() as session:
        session.add(Job(name=EFFECT, payload={"by": ctx.job_id}))
        await ctx.finish_in(session)
        if fail_after:
            raise RuntimeError("failed after marking the job done, before the commit")


async def test_the_job_is_done_with_its_effects_in_one_transaction(committing_db: Database) -> None:
    contexts: list[JobContext] = []

    async def handler(ctx: JobContext, payload: dict[str, Any]) -> None:
        contexts.append(ctx)
        await _effect_then_finish(ctx, fail_after=False)

    runner = JobRunner(committing_db, {"finishes.itself": handler}, lease=60, retry_base=1)
    job_id = await _job(committing_db, "finishes.itself")
    await runner.run(job_id)
    job, effects = await _rows(committing_db, job_id)
    assert (job.status, job.attempts, job.locked_until, job.last_error) == (JobStatus.DONE, 1, None, None)
    assert job.finished_at is not None
    assert effects == 1
    assert contexts[0].finished  # so the runner wrote no completion of its own


async def test_a_failure_before_the_commit_takes_the_completion_back_with_the_effects(
    committing_db: Database,
) -> None:
    async def handler(ctx: JobContext, payload: dict[str, Any]) -> None:
        await _effect_then_finish(ctx, fail_after=True)

    runner = JobRunner(committing_db, {"fails.late": handler}, lease=60, retry_base=1)
    job_id = await _job(committing_db, "fails.late")
    await runner.run(job_id)
    job, effects = await _rows(committing_db, job_id)
    assert (job.status, job.attempts) == (JobStatus.PENDING, 1)  # to be retried
    assert "failed after marking the job done" in (job.last_error or "")
    assert effects == 0


ENDINGS = ["finishes in its transaction", "returns", "fails", "fails on its last attempt"]


@pytest.mark.parametrize("ending", ENDINGS)
async def test_an_attempt_that_lost_its_lease_leaves_the_job_to_the_later_one(
    committing_db: Database, ending: str
) -> None:
    started, superseded = asyncio.Event(), asyncio.Event()

    async def handler(ctx: JobContext, payload: dict[str, Any]) -> None:
        started.set()
        await superseded.wait()
        if ending == "finishes in its transaction":
            await _effect_then_finish(ctx, fail_after=False)
        elif ending.startswith("fails"):
            raise RuntimeError("failed after its lease ran out")

    runner = JobRunner(committing_db, {"slow": handler}, lease=60, retry_base=1)
    job_id = await _job(committing_db, "slow")
    if ending == "fails on its last attempt":
        async with committing_db.session_scope() as session:
            await session.execute(update(Job).where(Job.id == job_id).values(max_attempts=1))
    run = asyncio.create_task(runner.run(job_id))
    await asyncio.wait_for(started.wait(), 10)
    # Meanwhile the lease ran out and another worker claimed the job (its attempt 2).
    later_lease = datetime.now(UTC) + timedelta(minutes=5)
    async with committing_db.session_scope() as session:
        await session.execute(
            update(Job).where(Job.id == job_id).values(attempts=Job.attempts + 1, locked_until=later_lease)
        )
    superseded.set()
    await asyncio.wait_for(run, 10)
    job, effects = await _rows(committing_db, job_id)
    # Still the later attempt's: not done, not pending for a retry (it would be handed out
    # while it runs), not dead.
    assert (job.status, job.attempts, job.last_error) == (JobStatus.RUNNING, 2, None)
    assert job.locked_until == later_lease
    assert effects == 0
