"""Claims asked for at once go out together: one statement for a whole hand-out, each job
still claimed once, and a failed statement reaches every claim that was in it. The jobs that
succeed together are marked done together, each only while the row is still its attempt's."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select, update

from storefront.core.batching import Batches
from storefront.core.db import Database
from storefront.core.jobs import Job, JobContext, JobRunner, JobStatus


async def _jobs(db: Database, name: str, count: int) -> list[int]:
    async with db.session_scope() as session:
        jobs = [Job(name=name, payload={}) for _ in range(count)]
        session.add_all(jobs)
        await session.flush()
        return [job.id for job in jobs]


async def _statuses(db: Database, ids: list[int]) -> list[tuple[JobStatus, int]]:
    async with db.session_scope() as session:
        rows = await session.execute(select(Job.status, Job.attempts).where(Job.id.in_(ids)).order_by(Job.id))
        return [(JobStatus(status), attempts) for status, attempts in rows]


def _recording_runner(db: Database, name: str) -> tuple[JobRunner, list[int]]:
    """A runner whose one handler (for jobs named ``name``) records the ids it ran."""
    ran: list[int] = []

    async def handler(ctx: JobContext, payload: dict[str, Any]) -> None:
        ran.append(ctx.job_id)

    return JobRunner(db, {name: handler}, lease=60, retry_base=1), ran


def _counting(runner: JobRunner) -> tuple[list[list[int]], list[list[tuple[int, int]]]]:
    """The batches of claims and of successes the runner sends, as they go out."""
    claims: list[list[int]] = []
    successes: list[list[tuple[int, int]]] = []
    claim_batch, finish_batch = runner._claim_batch, runner._finish_batch

    async def counted_claims(job_ids: list[int]) -> dict[int, Job | None]:
        claims.append(list(job_ids))
        return await claim_batch(job_ids)

    async def counted_successes(attempts: list[tuple[int, int]]) -> dict[tuple[int, int], bool]:
        successes.append(list(attempts))
        return await finish_batch(attempts)

    runner._claims = Batches(counted_claims, None)
    runner._successes = Batches(counted_successes, False)
    return claims, successes


async def test_a_hand_out_is_claimed_in_one_statement_and_each_job_runs_once(
    committing_db: Database,
) -> None:
    runner, ran = _recording_runner(committing_db, "claims.batched")
    claims, successes = _counting(runner)
    ids = await _jobs(committing_db, "claims.batched", 5)
    # Every id handed out twice at once (a sweep and a redelivery): still one run each.
    await asyncio.wait_for(asyncio.gather(*(runner.run(job_id) for job_id in ids + ids)), 30)
    assert sorted(ran) == ids
    assert [sorted(batch) for batch in claims] == [sorted(ids + ids)]
    assert [sorted(batch) for batch in successes] == [[(job_id, 1) for job_id in ids]]
    assert await _statuses(committing_db, ids) == [(JobStatus.DONE, 1)] * 5


async def test_a_failed_claim_statement_reaches_every_claim_in_it_and_the_next_ones_go_on(
    committing_db: Database,
) -> None:
    runner, ran = _recording_runner(committing_db, "claims.failing")
    batches: list[list[int]] = []
    claim_batch = runner._claim_batch

    async def fails_once(job_ids: list[int]) -> dict[int, Job | None]:
        batches.append(list(job_ids))
        if len(batches) == 1:
            raise ConnectionResetError("the database went away")
        return await claim_batch(job_ids)

    runner._claims = Batches(fails_once, None)
    ids = await _jobs(committing_db, "claims.failing", 3)
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(runner.run(job_id) for job_id in ids), return_exceptions=True), 30
    )
    assert [repr(outcome) for outcome in outcomes] == [repr(ConnectionResetError("the database went away"))] * 3
    assert ran == []
    assert await _statuses(committing_db, ids) == [(JobStatus.PENDING, 0)] * 3  # nothing claimed
    await asyncio.wait_for(asyncio.gather(*(runner.run(job_id) for job_id in ids)), 30)
    assert sorted(ran) == ids
    assert len(batches) == 2


async def test_a_success_lands_only_while_the_row_is_still_that_attempts(committing_db: Database) -> None:
    ids = await _jobs(committing_db, "claims.outlived", 2)
    stale, kept = ids
    async with committing_db.session_scope() as session:  # both running; ``stale`` claimed again since
        await session.execute(update(Job).where(Job.id.in_(ids)).values(status=JobStatus.RUNNING, attempts=1))
        await session.execute(update(Job).where(Job.id == stale).values(attempts=2))
    runner, _ = _recording_runner(committing_db, "claims.outlived")
    landed = await asyncio.gather(runner._successes.ask((stale, 1)), runner._successes.ask((kept, 1)))
    assert list(landed) == [False, True]
    assert await _statuses(committing_db, ids) == [(JobStatus.RUNNING, 2), (JobStatus.DONE, 1)]
