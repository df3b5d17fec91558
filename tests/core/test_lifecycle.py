"""Shutdown in one process: readiness turns 503 while requests are still served, streams
end with a reconnect hint, and a job runner hands back what it cannot finish."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from storefront.core.db import Database
from storefront.core.jobs import Job, JobContext, JobRunner
from storefront.core.lifecycle import Lifecycle, until_set
from tests.helpers import Api, assert_error, serve


async def test_draining_turns_readiness_to_503_and_keeps_serving(api: Api, app: FastAPI) -> None:
    assert (await api.client.get("/health/ready")).status_code == 200
    app.state.lifecycle.draining.set()
    error = assert_error(await api.client.get("/health/ready"), 503, "SERVICE_UNAVAILABLE")
    assert error["details"] == {"draining": True}
    assert (await api.client.get("/health/live")).status_code == 200
    assert (await api.client.get("/api/v1/products")).status_code == 200


async def test_stopping_ends_a_stream_with_a_reconnect_hint(api: Api, app: FastAPI) -> None:
    buyer = await api.customer()
    lines: list[str] = []
    async with (
        serve(app) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
        client.stream("GET", "/api/v1/notifications/stream", headers=buyer) as response,
    ):
        assert response.status_code == 200
        async with asyncio.timeout(10):
            async for line in response.aiter_lines():
                lines.append(line)
                if line == ": connected":
                    app.state.lifecycle.stop()
    # The stream ended by itself (no timeout), and told the client when to come back.
    assert lines[0] == ": connected"
    assert ": server restarting" in lines
    assert "retry: 1000" in lines


async def test_the_drain_marker_starts_the_drain_and_the_stop_follows(tmp_path: Path) -> None:
    marker = tmp_path / "draining"
    lifecycle = Lifecycle(drain_seconds=2.0, marker=marker)
    watcher = asyncio.create_task(lifecycle.watch())
    try:
        await asyncio.sleep(0.3)
        assert not lifecycle.draining.is_set()
        marker.touch()
        started = time.monotonic()
        await asyncio.wait_for(lifecycle.draining.wait(), 1.5)
        assert not lifecycle.stopping.is_set()  # still serving through the drain
        await asyncio.wait_for(lifecycle.stopping.wait(), 5)
        assert time.monotonic() - started >= 1.5
        await asyncio.wait_for(watcher, 1)
    finally:
        watcher.cancel()


async def _numbers(into: list[int]) -> AsyncIterator[int]:
    for number in range(100):
        into.append(number)
        yield number
        await asyncio.sleep(0.01)


async def test_until_set_stops_at_the_event_or_at_the_end() -> None:
    event = asyncio.Event()
    produced: list[int] = []
    seen = []
    async for number in until_set(event, _numbers(produced)):
        seen.append(number)
        if number == 3:
            event.set()
    assert seen == [0, 1, 2, 3]

    async def three() -> AsyncIterator[int]:
        for number in range(3):
            yield number

    assert [number async for number in until_set(asyncio.Event(), three())] == [0, 1, 2]


async def test_a_draining_runner_finishes_what_it_can_and_hands_back_the_rest(committing_db: Database) -> None:
    started: dict[str, asyncio.Event] = {"quick": asyncio.Event(), "stuck": asyncio.Event()}
    release_quick = asyncio.Event()

    async def quick(ctx: JobContext, payload: dict[str, Any]) -> None:
        started["quick"].set()
        await release_quick.wait()

    async def stuck(ctx: JobContext, payload: dict[str, Any]) -> None:
        started["stuck"].set()
        await asyncio.Event().wait()  # never finishes on its own

    db = committing_db
    runner = JobRunner(db, {"quick": quick, "stuck": stuck}, lease=600, retry_base=1)
    async with db.session_scope() as session:
        jobs = [Job(name=name, payload={}) for name in ("quick", "stuck", "quick")]
        session.add_all(jobs)
        await session.flush()
    quick_id, stuck_id, late_id = (job.id for job in jobs)
    runs = [asyncio.create_task(runner.run(job_id)) for job_id in (quick_id, stuck_id)]
    await asyncio.wait_for(asyncio.gather(started["quick"].wait(), started["stuck"].wait()), 5)

    drained = asyncio.create_task(runner.drain(grace=0.5))
    await asyncio.sleep(0.05)
    release_quick.set()  # finishes inside the grace
    await runner.run(late_id)  # delivered while closing: not claimed, handed back
    handed_back = await asyncio.wait_for(drained, 5)
    await asyncio.gather(*runs, return_exceptions=True)

    assert handed_back == sorted([stuck_id, late_id])
    async with db.session_scope() as session:
        found = await session.scalars(select(Job).where(Job.id.in_([quick_id, stuck_id, late_id])))
        rows = {row.id: row for row in found}
    assert (rows[quick_id].status, rows[quick_id].attempts) == ("done", 1)
    # Back in the queue now, not when the ten-minute lease would have run out.
    stuck_row = rows[stuck_id]
    assert (stuck_row.status, stuck_row.attempts, stuck_row.locked_until) == ("pending", 0, None)
    assert stuck_row.available_at <= datetime.now(UTC)
    assert (rows[late_id].status, rows[late_id].attempts) == ("pending", 0)


async def test_a_bounded_runner_runs_that_many_at_once_and_leaves_the_rest_unclaimed(committing_db: Database) -> None:
    running = 0
    most = 0
    gate = asyncio.Event()
    two_running = asyncio.Event()

    async def slow(ctx: JobContext, payload: dict[str, Any]) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        if running == 2:
            two_running.set()
        await gate.wait()
        running -= 1

    db = committing_db
    runner = JobRunner(db, {"slow": slow}, lease=600, retry_base=1, concurrency=2)
    async with db.session_scope() as session:
        jobs = [Job(name="slow", payload={}) for _ in range(6)]
        session.add_all(jobs)
        await session.flush()
    ids = [job.id for job in jobs]
    runs = [asyncio.create_task(runner.run(job_id)) for job_id in ids]
    await asyncio.wait_for(two_running.wait(), 5)
    await asyncio.sleep(0.1)  # room for a third to start, were the bound not there
    async with db.session_scope() as session:
        claimed = (await session.scalars(select(Job.id).where(Job.id.in_(ids), Job.attempts > 0))).all()
    assert (running, len(claimed)) == (2, 2)  # the four waiting have claimed nothing

    # Shutdown while four wait for a slot: the two running finish, the four are handed back.
    drained = asyncio.create_task(runner.drain(grace=5))
    await asyncio.sleep(0.05)
    gate.set()
    handed_back = await asyncio.wait_for(drained, 10)
    await asyncio.gather(*runs)
    assert most == 2
    assert len(handed_back) == 4
    assert set(handed_back) <= set(ids)
    async with db.session_scope() as session:
        rows = (await session.execute(select(Job.id, Job.status, Job.attempts).where(Job.id.in_(ids)))).all()
    assert sorted((status, attempts) for _, status, attempts in rows) == [("done", 1)] * 2 + [("pending", 0)] * 4


async def test_a_job_delivered_twice_at_once_is_still_handed_back_when_cut_short(committing_db: Database) -> None:
    """A sweep and a redelivery can hand the same id to one process at once: one task
    claims it, the other finds it taken. Stopping must still see the running attempt (it
    did not: the task that found it taken ended, and drain thought nothing was running)."""
    started = asyncio.Event()

    async def stuck(ctx: JobContext, payload: dict[str, Any]) -> None:
        started.set()
        await asyncio.Event().wait()  # never finishes on its own

    db = committing_db
    runner = JobRunner(db, {"stuck": stuck}, lease=600, retry_base=1)
    async with db.session_scope() as session:
        job = Job(name="stuck", payload={})
        session.add(job)
        await session.flush()
    runs = [asyncio.create_task(runner.run(job.id)) for _ in range(2)]
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.sleep(0.05)  # the task that found it taken has ended

    handed_back = await asyncio.wait_for(runner.drain(grace=0.2), 5)
    assert handed_back == [job.id]
    await asyncio.wait_for(asyncio.gather(*runs, return_exceptions=True), 5)  # cut short
    async with db.session_scope() as session:
        row = await session.scalar(select(Job).where(Job.id == job.id))
    assert row is not None
    assert (row.status, row.attempts, row.locked_until) == ("pending", 0, None)
