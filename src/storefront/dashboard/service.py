"""The dashboard: independent sections, gathered concurrently, each on its own
session and under its own timeout. A section that fails or times out comes back
null and is named in ``errors``; the others still answer.

The dashboard has no tables: each section asks the domain that owns the data."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.db import Database
from storefront.dashboard.schemas import DashboardRead, OrderStats
from storefront.identity.models import User
from storefront.identity.schemas import UserRead
from storefront.notifications.schemas import NotificationSummary
from storefront.notifications.service import NotificationService
from storefront.orders.repository import OrderRepository
from storefront.orders.schemas import OrderRead, order_read
from storefront.todos.schemas import TodoCounts
from storefront.todos.service import TodoService

log = structlog.get_logger("storefront.dashboard")
Section = Callable[[AsyncSession, int], Awaitable[Any]]
LATEST = 5  # orders and notifications shown


async def recent_orders(session: AsyncSession, user_id: int) -> list[OrderRead]:
    return [order_read(order) for order in await OrderRepository(session).recent(user_id, LATEST)]


async def notifications(session: AsyncSession, user_id: int) -> NotificationSummary:
    return await NotificationService(session).summary(user_id, LATEST)


async def todos(session: AsyncSession, user_id: int) -> TodoCounts:
    return await TodoService(session).counts(user_id)


async def stats(session: AsyncSession, user_id: int) -> OrderStats:
    count, total = await OrderRepository(session).spending(user_id)
    return OrderStats(order_count=count, total_spent=total)


SECTIONS: Mapping[str, Section] = {
    "recent_orders": recent_orders,
    "notifications": notifications,
    "todos": todos,
    "stats": stats,
}


class Dashboard:
    def __init__(self, db: Database, timeout: float, sections: Mapping[str, Section] = SECTIONS) -> None:
        self.db = db
        self.timeout = timeout
        self.sections = sections

    async def _section(self, name: str, section: Section, user_id: int) -> tuple[str, Any, str | None]:
        try:
            # A session per section: one AsyncSession is never shared between tasks.
            async with asyncio.timeout(self.timeout), self.db.read_sessionmaker() as session:
                return name, await section(session, user_id), None
        except TimeoutError:
            log.warning("dashboard_section_timeout", section=name)
            return name, None, "timeout"
        except Exception:
            log.exception("dashboard_section_failed", section=name)
            return name, None, "unavailable"

    async def gather(self, user_id: int) -> dict[str, Any]:
        """Every section by name (None where it failed), and ``errors``: which failed, and why."""
        # Structured concurrency: every section finishes (or is cancelled) before we return.
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(self._section(name, section, user_id)) for name, section in self.sections.items()
            ]
        results: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for task in tasks:
            name, value, error = task.result()
            results[name] = value
            if error is not None:
                errors[name] = error
        return {**results, "errors": errors}

    async def read(self, user: User) -> DashboardRead:
        """The whole dashboard of ``user``."""
        return DashboardRead.model_validate({"user": UserRead.model_validate(user), **await self.gather(user.id)})
