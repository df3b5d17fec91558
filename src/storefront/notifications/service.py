"""Creating, listing and reading notifications; new ones are pushed to live streams."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.db import after_commit
from storefront.core.events import EventBus
from storefront.core.pagination import IdKeyset
from storefront.notifications.errors import NotificationNotFound
from storefront.notifications.models import Notification
from storefront.notifications.repository import NotificationRepository
from storefront.notifications.schemas import NotificationRead, NotificationSummary


def channel(user_id: int) -> str:
    """The event channel of one user's live notifications."""
    return f"user:{user_id}:notifications"


class NotificationService:
    def __init__(self, session: AsyncSession, events: EventBus | None = None) -> None:
        self.session = session
        self.notifications = NotificationRepository(session)
        self.events = events

    async def notify(
        self, user_id: int, kind: str, title: str, body: str, data: dict[str, Any], dedupe_key: str
    ) -> Notification | None:
        """Create a notification once per (user, dedupe_key); push it after commit."""
        notification = Notification(
            user_id=user_id, kind=kind, title=title, body=body, data=data, dedupe_key=dedupe_key
        )
        if not await self.notifications.add_once(notification):
            return None  # already created by an earlier run of the same job
        if self.events is not None:
            events, payload = self.events, NotificationRead.model_validate(notification).model_dump_json()

            async def push() -> None:
                await events.publish(channel(user_id), payload)

            after_commit(self.session, push)
        return notification

    async def list(self, user_id: int, unread: bool | None, keyset: IdKeyset) -> Sequence[Notification]:
        return await self.notifications.list(user_id, unread, keyset)

    async def summary(self, user_id: int, latest: int) -> NotificationSummary:
        """How many are unread, and the ``latest`` few (the dashboard's section)."""
        unread = await self.notifications.unread_count(user_id)
        items = await self.notifications.latest(user_id, latest)
        return NotificationSummary(unread=unread, latest=[NotificationRead.model_validate(item) for item in items])

    async def mark_read(self, user_id: int, notification_id: int) -> Notification:
        notification = await self.notifications.owned(user_id, notification_id)
        if notification is None:
            raise NotificationNotFound(notification_id)
        if notification.read_at is None:
            notification.read_at = datetime.now(UTC)
            await self.session.flush()
        return notification

    async def mark_all_read(self, user_id: int) -> None:
        await self.notifications.mark_all_read(user_id, datetime.now(UTC))
