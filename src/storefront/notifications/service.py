"""Creating, listing and reading notifications; new ones are pushed to live streams."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.db import after_commit
from storefront.core.errors import NotFound
from storefront.core.events import EventBus
from storefront.notifications.models import Notification
from storefront.notifications.schemas import NotificationRead


def channel(user_id: int) -> str:
    return f"user:{user_id}:notifications"


class NotificationService:
    def __init__(self, session: AsyncSession, events: EventBus | None = None) -> None:
        self.session = session
        self.events = events

    async def notify(
        self, user_id: int, kind: str, title: str, body: str, data: dict[str, Any], dedupe_key: str
    ) -> Notification | None:
        """Create a notification once per (user, dedupe_key); push it after commit."""
        notification = Notification(
            user_id=user_id, kind=kind, title=title, body=body, data=data, dedupe_key=dedupe_key
        )
        try:
            async with self.session.begin_nested():
                self.session.add(notification)
                await self.session.flush()
        except IntegrityError:
            return None  # already created by an earlier run of the same job
        if self.events is not None:
            events, payload = self.events, NotificationRead.model_validate(notification).model_dump_json()

            async def push() -> None:
                await events.publish(channel(user_id), payload)

            after_commit(self.session, push)
        return notification

    async def list(
        self, user_id: int, unread: bool | None, before_id: int | None, limit: int
    ) -> Sequence[Notification]:
        query = select(Notification).where(Notification.user_id == user_id)
        if unread is True:
            query = query.where(Notification.read_at.is_(None))
        elif unread is False:
            query = query.where(Notification.read_at.is_not(None))
        if before_id is not None:
            query = query.where(Notification.id < before_id)
        return (await self.session.scalars(query.order_by(Notification.id.desc()).limit(limit))).all()

    async def mark_read(self, user_id: int, notification_id: int) -> Notification:
        notification = await self.session.scalar(
            select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
        )
        if notification is None:
            raise NotFound(f"Notification {notification_id} not found")
        if notification.read_at is None:
            notification.read_at = datetime.now(UTC)
            await self.session.flush()
        return notification

    async def mark_all_read(self, user_id: int) -> None:
        await self.session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=datetime.now(UTC))
        )
