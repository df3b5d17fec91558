"""Admin view of background jobs: inspect failures, replay dead jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from storefront.core.dependencies import API_PREFIX, SessionDep, StateDep
from storefront.core.jobs import JobAdmin, JobStatus
from storefront.core.pagination import Page, PageParamsDep
from storefront.core.params import ResourceId
from storefront.identity.dependencies import AdminUser

router = APIRouter(prefix=f"{API_PREFIX}/admin/jobs", tags=["admin"])


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    payload: dict[str, Any]
    status: JobStatus
    attempts: int
    max_attempts: int
    last_error: str | None
    available_at: datetime
    created_at: datetime
    finished_at: datetime | None


async def get_admin(session: SessionDep, state: StateDep) -> JobAdmin:
    return JobAdmin(session, state.jobs.queue.dispatcher)


JobAdminDep = Annotated[JobAdmin, Depends(get_admin)]


@router.get("", response_model=Page[JobRead], summary="Jobs by status (default: dead)")
async def list_jobs(
    _: AdminUser,
    admin: JobAdminDep,
    page: PageParamsDep,
    state: StateDep,
    status: Annotated[JobStatus, Query()] = JobStatus.DEAD,
) -> object:
    before = state.cursors.after_id("jobs", page)
    rows = await admin.list(status, before, page.limit + 1, page.offset)
    return state.cursors.id_page("jobs", rows, page, JobRead.model_validate)


@router.post("/{job_id}/retry", response_model=JobRead, summary="Replay a dead job from its first attempt")
async def retry_job(job_id: ResourceId, _: AdminUser, admin: JobAdminDep) -> object:
    return await admin.retry(job_id)
