"""CSV report routes (admin)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from storefront.core.dependencies import API_PREFIX
from storefront.fields import IsoDate
from storefront.identity.dependencies import AdminUser
from storefront.reports.dependencies import ReportsDep

router = APIRouter(prefix=f"{API_PREFIX}/reports", tags=["admin"])
CSV = "text/csv; charset=utf-8"


def _download(body: AsyncIterator[bytes], name: str) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get("/orders.csv", response_class=StreamingResponse, summary="One row per order line, streamed")
async def orders_csv(
    _: AdminUser,
    reports: ReportsDep,
    start: Annotated[IsoDate, Query(alias="from", description="First day (UTC), inclusive.")],
    end: Annotated[IsoDate, Query(alias="to", description="Last day (UTC), inclusive.")],
) -> StreamingResponse:
    return _download(reports.orders(start, end), f"orders-{start.isoformat()}-{end.isoformat()}.csv")


@router.get("/products.csv", response_class=StreamingResponse, summary="Every live product, streamed")
async def products_csv(_: AdminUser, reports: ReportsDep) -> StreamingResponse:
    return _download(reports.products(), f"products-{datetime.now(UTC).date().isoformat()}.csv")
