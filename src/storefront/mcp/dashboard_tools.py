"""The dashboard tool: the caller's orders, notifications, todos and totals in one call."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from storefront.core.schemas import MoneyOut
from storefront.dashboard.service import Dashboard
from storefront.identity.schemas import UserRead
from storefront.mcp.identity import caller
from storefront.notifications.schemas import NotificationRead
from storefront.orders.schemas import OrderRead
from storefront.runtime import Runtime


class NotificationSummary(BaseModel):
    unread: int
    latest: list[NotificationRead]


class TodoCounts(BaseModel):
    open: int
    overdue: int
    completed: int


class OrderStats(BaseModel):
    order_count: int
    total_spent: MoneyOut


class DashboardRead(BaseModel):
    """The HTTP dashboard's body: a section that failed or timed out is null and named in `errors`."""

    user: UserRead
    recent_orders: list[OrderRead] | None
    notifications: NotificationSummary | None
    todos: TodoCounts | None
    stats: OrderStats | None
    errors: dict[str, str] = Field(description="Sections that could not be read, and why.")


def register_dashboard_tools(server: MCPServer[Any], state: Runtime) -> None:
    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def get_dashboard() -> DashboardRead:
        """Your account at a glance: recent orders, unread notifications, todo counts
        (open, overdue, completed) and order totals."""
        user = caller().user
        sections = await Dashboard(state.db, state.settings.dashboard_section_timeout_seconds).gather(user.id)
        return DashboardRead.model_validate({"user": UserRead.model_validate(user), **sections})
