"""Claims asked for at once go out together: one statement for a whole hand-out, each job
still claimed once, and a failed statement reaches every claim that was in it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

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


def _counting(runner: JobRunner, monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    batches: list[list[int]] = []
    claim_batch = runner._claim_batch

    async def counted(job_ids: list[int]) -> dict[int, Job]:
        batches.append(list(job_ids))
        return await claim_batch(job_ids)

    monkeypatch.setattr(runner, "_claim_batch", counted)
    return batches


async def test_a_hand_out_is_claimed_in_one_statement_and_each_job_runs_once(
    committing_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner, ran = _recording_runner(committing_db, "claims.batched")
    batches = _counting(runner, monkeypatch)
    ids = await _jobs(committing_db, "claims.batched", 5)
    # Every id handed out twice at once (a sweep and a redelivery): still one run each.
    await asyncio.wait_for(asyncio.gather(*(runner.run(job_id) for job_id in ids + ids)), 30)
    assert sorted(ran) == ids
    assert [sorted(batch) for batch in batches] == [sorted(ids + ids)]
    assert await _statuses(committing_db, ids) == [(JobStatus.DONE, 1)] * 5


async def test_a_failed_claim_statement_reaches_every_claim_in_it_and_the_next_ones_go_on(
    committing_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner, ran = _recording_runner(committing_db, "claims.failing")
    batches = _counting(runner, monkeypatch)
    counted = runner._claim_batch

    async def fails_once(job_ids: list[int]) -> dict[int, Job]:
        if len(batches) == 0:
            batches.append(list(job_ids))
            raise ConnectionResetError("the database went away")
        return await counted(job_ids)

    monkeypatch.setattr(runner, "_claim_batch", fails_once)
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
