"""The dashboard's body, shared by HTTP and MCP."""

from __future__ import annotations

from pydantic import BaseModel, Field

from storefront.core.schemas import MoneyOut
from storefront.identity.schemas import UserRead
from storefront.notifications.schemas import NotificationSummary
from storefront.orders.schemas import OrderRead
from storefront.todos.schemas import TodoCounts


class OrderStats(BaseModel):
    order_count: int
    total_spent: MoneyOut


class DashboardRead(BaseModel):
    """A section that failed or timed out is null and named in `errors`."""

    user: UserRead
    recent_orders: list[OrderRead] | None
    notifications: NotificationSummary | None
    todos: TodoCounts | None
    stats: OrderStats | None
    errors: dict[str, str] = Field(description="Sections that could not be read, and why.")
