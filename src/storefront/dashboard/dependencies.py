"""The dashboard at the edge (HTTP and MCP): built from the process's clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from storefront.core.dependencies import StateDep
from storefront.core.state import AppState
from storefront.dashboard.service import Dashboard


def dashboard(state: AppState) -> Dashboard:
    return Dashboard(state.db, state.settings.dashboard_section_timeout_seconds)


async def get_dashboard(state: StateDep) -> Dashboard:
    return dashboard(state)


DashboardDep = Annotated[Dashboard, Depends(get_dashboard)]
