"""GET /api/v1/admin/analytics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from storefront.analytics.dependencies import AnalyticsDep
from storefront.core.dependencies import API_PREFIX
from storefront.fields import IsoDate
from storefront.identity.dependencies import AdminUser

router = APIRouter(prefix=f"{API_PREFIX}/admin/analytics", tags=["admin"])


@router.get("", summary="Revenue per day, top products, orders by status, low stock")
async def analytics(
    _: AdminUser,
    service: AnalyticsDep,
    start: Annotated[IsoDate, Query(alias="from", description="First day (UTC), inclusive.")],
    end: Annotated[IsoDate, Query(alias="to", description="Last day (UTC), inclusive.")],
) -> dict[str, Any]:
    return await service.report(start, end)
