"""Reports at the HTTP edge."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from storefront.core.dependencies import StateDep
from storefront.reports.service import Reports


async def get_reports(state: StateDep) -> Reports:
    # No unit of work: a report streams from a read-only connection of its own.
    return Reports(state.db, state.settings.report_batch_size)


ReportsDep = Annotated[Reports, Depends(get_reports)]
