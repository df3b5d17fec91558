"""Notifications at the HTTP edge: the service per unit of work."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from storefront.core.dependencies import SessionDep, StateDep
from storefront.notifications.service import NotificationService


async def get_notification_service(session: SessionDep, state: StateDep) -> NotificationService:
    return NotificationService(session, state.events)


NotificationServiceDep = Annotated[NotificationService, Depends(get_notification_service)]
