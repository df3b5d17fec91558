"""The dashboard tool: the caller's orders, notifications, todos and totals in one call."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

from storefront.dashboard.dependencies import dashboard
from storefront.dashboard.schemas import DashboardRead
from storefront.mcp.identity import caller
from storefront.runtime import Runtime


def register_dashboard_tools(server: MCPServer[Any], state: Runtime) -> None:
    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def get_dashboard() -> DashboardRead:
        """Your account at a glance: recent orders, unread notifications, todo counts
        (open, overdue, completed) and order totals."""
        return await dashboard(state).read(caller().user)
