"""The sweep hands out what is lost, not what is on its way: while the broker holds unread
hand-outs, a pending job is handed out again only once it has been due for a lease; an
expired lease always. With nothing waiting (or a broker that cannot tell), every due job."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from storefront.core.db import Database
from storefront.core.jobs import Job, JobRunner, JobStatus, Sweeper

LEASE = timedelta(seconds=60)


class _Broker:
    """A dispatcher that records hand-outs and says how many wait unread."""

    def __init__(self, waiting: int | None) -> None:
        self.unread = waiting
        self.handed_out: list[int] = []

    async def dispatch(self, job_ids: Sequence[int]) -> None:
        self.handed_out += job_ids

    async def waiting(self) -> int | None:
        return self.unread


async def _three_jobs(db: Database) -> dict[str, int]:
    """Pending and just due; pending and due for two leases; running on an expired lease."""
    now = datetime.now(UTC)
    async with db.session_scope() as session:
        jobs = {name: Job(name="sweep.test", payload={}) for name in ("fresh", "stale", "expired")}
        session.add_all(jobs.values())
        await session.flush()
        ids = {name: job.id for name, job in jobs.items()}
        await session.execute(update(Job).where(Job.id == ids["fresh"]).values(available_at=now))
        await session.execute(update(Job).where(Job.id == ids["stale"]).values(available_at=now - 2 * LEASE))
        await session.execute(
            update(Job)
            .where(Job.id == ids["expired"])
            .values(status=JobStatus.RUNNING, attempts=1, locked_until=now - timedelta(seconds=1))
        )
    return ids


@pytest.mark.parametrize(
    ("waiting", "handed_out"),
    [(5, {"stale", "expired"}), (0, {"fresh", "stale", "expired"}), (None, {"fresh", "stale", "expired"})],
)
async def test_a_sweep_skips_pending_jobs_on_their_way(
    committing_db: Database, waiting: int | None, handed_out: set[str]
) -> None:
    ids = await _three_jobs(committing_db)
    broker = _Broker(waiting)
    runner = JobRunner(committing_db, {}, lease=LEASE.total_seconds(), retry_base=1)
    await Sweeper(runner, broker, interval=1).sweep_once()
    assert {name for name, job_id in ids.items() if job_id in broker.handed_out} == handed_out
