"""GET /api/v1/dashboard."""

from __future__ import annotations

from fastapi import APIRouter

from storefront.core.dependencies import API_PREFIX
from storefront.dashboard.dependencies import DashboardDep
from storefront.dashboard.schemas import DashboardRead
from storefront.identity.dependencies import CurrentUser

router = APIRouter(prefix=f"{API_PREFIX}/dashboard", tags=["dashboard"])


@router.get("", response_model=DashboardRead, summary="Your orders, notifications, todos and totals in one call")
async def dashboard(user: CurrentUser, service: DashboardDep) -> DashboardRead:
    return await service.read(user)
