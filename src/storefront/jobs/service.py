"""What an admin does with jobs, inside the caller's unit of work."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.jobs import Dispatcher, Job, JobAdmin, JobStatus
from storefront.core.pagination import IdKeyset
from storefront.jobs.repository import JobRepository


class JobService:
    def __init__(self, session: AsyncSession, dispatcher: Dispatcher) -> None:
        self.jobs = JobRepository(session)
        # The replay is the engine's (core.jobs): it knows how a job is handed out again.
        self.admin = JobAdmin(session, dispatcher)

    async def list(self, status: JobStatus, keyset: IdKeyset) -> Sequence[Job]:
        return await self.jobs.list(status, keyset)

    async def retry(self, job_id: int) -> Job:
        """Replay a dead job from its first attempt."""
        return await self.admin.retry(job_id)
