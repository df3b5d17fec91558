"""Notification queries through the unit of work's session. No commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select, update

from storefront.core.pagination import IdKeyset
from storefront.core.repository import Repository, insert_unless_present, run_prebuilt, table_of
from storefront.notifications.models import Notification

# "Add unless the user has one with this dedupe key" as one statement per dialect, built once.
# Through the ORM it was a savepoint, a flush and the savepoint's release (three round trips
# and the unit of work's bookkeeping) for every order's notification (issue 16 row 5).
_NOTIFICATIONS = table_of(Notification)
_ADD_ONCE = insert_unless_present(
    _NOTIFICATIONS, ["user_id", "dedupe_key"], _NOTIFICATIONS.c.id, _NOTIFICATIONS.c.created_at
)
_WRITTEN = ("user_id", "kind", "title", "body", "data", "dedupe_key")


class NotificationRepository(Repository):
    async def add_once(self, notification: Notification) -> bool:
        """Add it unless the user already has one with its ``dedupe_key`` (then False).

        The notification stays a plain object (not in the session); its ``id`` and
        ``created_at`` are filled in from RETURNING.
        """
        statement = _ADD_ONCE[self.session.get_bind().dialect.name]
        given = {column: getattr(notification, column) for column in _WRITTEN}
        values = {column: value for column, value in given.items() if value is not None}  # else the default
        added = (await run_prebuilt(self.session, statement, values)).first()
        if added is None:
            return False
        notification.id, notification.created_at = added.id, added.created_at
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
