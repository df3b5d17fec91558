"""Jobs at the HTTP edge: the admin's service per unit of work."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from storefront.core.dependencies import SessionDep, StateDep
from storefront.jobs.service import JobService


async def get_job_service(session: SessionDep, state: StateDep) -> JobService:
    return JobService(session, state.jobs.queue.dispatcher)


JobServiceDep = Annotated[JobService, Depends(get_job_service)]
