"""Notification queries through the unit of work's session. No commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError

from storefront.core.pagination import IdKeyset
from storefront.core.repository import Repository
from storefront.notifications.models import Notification


class NotificationRepository(Repository):
    async def add_once(self, notification: Notification) -> bool:
        """Add it unless the user already has one with its ``dedupe_key`` (then False)."""
        try:
            # A savepoint: the duplicate's failure must not end the caller's transaction.
            async with self.session.begin_nested():
                self.session.add(notification)
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def owned(self, user_id: int, notification_id: int) -> Notification | None:
        return await self.session.scalar(
            select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
        )

    @staticmethod
    def _of(user_id: int) -> Select[Notification]:
        return select(Notification).where(Notification.user_id == user_id)

    async def list(self, user_id: int, unread: bool | None, keyset: IdKeyset) -> Sequence[Notification]:
        """Newest first; ``unread`` True: only unread, False: only read, None: all."""
        query = self._of(user_id)
        if unread is not None:
            query = query.where(Notification.read_at.is_(None) if unread else Notification.read_at.is_not(None))
        return (await self.session.scalars(keyset.apply(query, Notification.id))).all()

    async def latest(self, user_id: int, limit: int) -> Sequence[Notification]:
        query = self._of(user_id).order_by(Notification.id.desc()).limit(limit)
        return (await self.session.scalars(query)).all()

    async def unread_count(self, user_id: int) -> int:
        count = await self.session.scalar(
            select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        return count or 0

    async def mark_all_read(self, user_id: int, now: datetime) -> None:
        await self.session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=now)
        )
