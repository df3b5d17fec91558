"""Job queries for the admin, through the unit of work's session. No commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from storefront.core.jobs import Job, JobStatus
from storefront.core.pagination import IdKeyset
from storefront.core.repository import Repository


class JobRepository(Repository):
    async def list(self, status: JobStatus, keyset: IdKeyset) -> Sequence[Job]:
        """Newest first."""
        query = select(Job).where(Job.status == status)
        return (await self.session.scalars(keyset.apply(query, Job.id))).all()
