"""Admin view of background jobs: inspect failures, replay dead jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from storefront.core.dependencies import API_PREFIX, StateDep
from storefront.core.jobs import JobStatus
from storefront.core.pagination import Page, PageParamsDep
from storefront.core.params import ResourceId
from storefront.identity.dependencies import AdminUser
from storefront.jobs.dependencies import JobServiceDep
from storefront.jobs.schemas import JobRead

router = APIRouter(prefix=f"{API_PREFIX}/admin/jobs", tags=["admin"])


@router.get("", response_model=Page[JobRead], summary="Jobs by status (default: dead)")
async def list_jobs(
    _: AdminUser,
    service: JobServiceDep,
    page: PageParamsDep,
    state: StateDep,
    status: Annotated[JobStatus, Query()] = JobStatus.DEAD,
) -> object:
    keyset = state.cursors.keyset("jobs", page)
    rows = await service.list(status, keyset)
    return state.cursors.id_page("jobs", rows, keyset, JobRead.model_validate)


@router.post(
    "/{job_id}/retry",
    response_model=JobRead,
    summary="Replay a dead job from its first attempt",
    responses={409: {"description": "Only dead jobs can be replayed"}},
)
async def retry_job(job_id: ResourceId, _: AdminUser, service: JobServiceDep) -> object:
    return await service.retry(job_id)
