"""The dashboard: independent sections, gathered concurrently, each on its own
session and under its own timeout. A section that fails or times out comes back
null and is named in ``errors``; the others still answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.db import Database
from storefront.notifications.models import Notification
from storefront.notifications.schemas import NotificationRead
from storefront.orders.models import Order, OrderStatus
from storefront.orders.repository import OrderRepository
from storefront.orders.schemas import order_read
from storefront.todos.models import Todo
from storefront.todos.service import overdue_condition

log = structlog.get_logger("storefront.dashboard")
Section = Callable[[AsyncSession, int], Awaitable[Any]]


async def recent_orders(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    orders = await OrderRepository(session).recent(user_id, 5)
    return [order_read(order).model_dump(mode="json") for order in orders]


async def notifications(session: AsyncSession, user_id: int) -> dict[str, Any]:
    unread = await session.scalar(
        select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    latest = await session.scalars(
        select(Notification).where(Notification.user_id == user_id).order_by(Notification.id.desc()).limit(5)
    )
    return {
        "unread": unread or 0,
        "latest": [NotificationRead.model_validate(item).model_dump(mode="json") for item in latest],
    }


async def todos(session: AsyncSession, user_id: int) -> dict[str, int]:
    today = datetime.now(UTC).date()
    row = (
        await session.execute(
            select(
                func.count().filter(Todo.completed.is_(False)),
                func.count().filter(overdue_condition(today)),
                func.count().filter(Todo.completed.is_(True)),
            ).where(Todo.owner_id == user_id)
        )
    ).one()
    return {"open": row[0], "overdue": row[1], "completed": row[2]}


async def stats(session: AsyncSession, user_id: int) -> dict[str, Any]:
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Order.total), 0)).where(
                Order.user_id == user_id, Order.status != OrderStatus.CANCELLED
            )
        )
    ).one()
    return {"order_count": row[0], "total_spent": f"{row[1]:.2f}"}


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
            async with asyncio.timeout(self.timeout), self.db.read_sessionmaker() as session:
                return name, await section(session, user_id), None
        except TimeoutError:
            log.warning("dashboard_section_timeout", section=name)
            return name, None, "timeout"
        except Exception:
            log.exception("dashboard_section_failed", section=name)
            return name, None, "unavailable"

    async def gather(self, user_id: int) -> dict[str, Any]:
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
