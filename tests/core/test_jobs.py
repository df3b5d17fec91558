"""The job system: retries with backoff, the dead-letter state, replay by an admin."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.core.jobs import Job, backoff
from tests.helpers import Api, assert_error


def test_backoff_grows_with_jitter_and_a_cap() -> None:
    delays = [backoff(attempt, base=2.0) for attempt in range(1, 6)]
    for attempt, delay in enumerate(delays, start=1):
        assert 0.8 * 2 * 2 ** (attempt - 1) <= delay <= 1.2 * 2 * 2 ** (attempt - 1)
    assert backoff(30, base=2.0, cap=600) <= 720


async def test_a_failing_job_retries_then_dies_and_an_admin_replays_it(api: Api, connection: AsyncConnection) -> None:
    jobs = api.state.jobs
    async with api.state.db.session_scope() as session:
        job = jobs.queue.enqueue(session, "no.such.job", {"x": 1}, max_attempts=2)
    # The first attempt ran at once (inline in tests) and failed: back to pending, later.
    row = (await connection.execute(select(Job).where(Job.id == job.id))).one()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.available_at > datetime.now(UTC)
    assert "no handler" in row.last_error

    await connection.execute(update(Job).where(Job.id == job.id).values(available_at=datetime.now(UTC)))
    assert job.id in await jobs.runner.due()
    await jobs.runner.run(job.id)
    row = (await connection.execute(select(Job).where(Job.id == job.id))).one()
    assert (row.status, row.attempts) == ("dead", 2)
    assert job.id not in await jobs.runner.due()

    admin = await api.admin_headers()
    dead = (await api.client.get("/api/v1/admin/jobs", headers=admin)).json()["items"]
    assert [(item["id"], item["name"], item["status"]) for item in dead] == [(job.id, "no.such.job", "dead")]
    customer = await api.customer()
    assert_error(await api.client.get("/api/v1/admin/jobs", headers=customer), 403, "FORBIDDEN")

    retried = await api.client.post(f"/api/v1/admin/jobs/{job.id}/retry", headers=admin)
    assert retried.status_code == 200
    assert retried.json()["attempts"] == 0
    row = (await connection.execute(select(Job).where(Job.id == job.id))).one()
    assert row.attempts == 1  # replayed at once, failed again, waiting for its next try
    assert row.status == "pending"
    again = await api.client.post(f"/api/v1/admin/jobs/{job.id}/retry", headers=admin)
    assert_error(again, 409, "CONFLICT")
