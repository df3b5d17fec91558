"""Notifications' own errors."""

from __future__ import annotations

from storefront.core.errors import NotFound


class NotificationNotFound(NotFound):
    def __init__(self, notification_id: int) -> None:
        super().__init__(f"Notification {notification_id} not found")
