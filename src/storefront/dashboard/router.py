"""GET /api/v1/dashboard."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from storefront.core.dependencies import API_PREFIX, StateDep
from storefront.dashboard.service import Dashboard
from storefront.identity.dependencies import CurrentUser
from storefront.identity.schemas import UserRead

router = APIRouter(prefix=f"{API_PREFIX}/dashboard", tags=["dashboard"])


async def get_dashboard(state: StateDep) -> Dashboard:
    return Dashboard(state.db, state.settings.dashboard_section_timeout_seconds)


@router.get("", summary="Your orders, notifications, todos and totals in one call")
async def dashboard(user: CurrentUser, service: Annotated[Dashboard, Depends(get_dashboard)]) -> dict[str, Any]:
    sections = await service.gather(user.id)
    return {"user": UserRead.model_validate(user).model_dump(mode="json"), **sections}
