"""Notification routes, including the server-sent events stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import structlog
from fastapi import APIRouter, Query, Request, Response, status
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask

from storefront.core.dependencies import API_PREFIX, StateDep
from storefront.core.fallback import REDIS_FAILURES
from storefront.core.lifecycle import until_set
from storefront.core.limits import Slots
from storefront.core.pagination import Page, PageParamsDep
from storefront.core.params import ResourceId
from storefront.identity.dependencies import CurrentUser
from storefront.notifications.dependencies import NotificationServiceDep
from storefront.notifications.schemas import NotificationRead
from storefront.notifications.service import channel

# What a client is told to wait before reconnecting when a process closes its stream.
RECONNECT_AFTER_MS = 1000
# ... and when the event bus (Redis) is down: long enough not to hammer it.
EVENTS_DOWN_RETRY_MS = 5000
log = structlog.get_logger("storefront.notifications")

router = APIRouter(prefix=f"{API_PREFIX}/notifications", tags=["notifications"])


@router.get("", response_model=Page[NotificationRead])
async def list_notifications(
    user: CurrentUser,
    service: NotificationServiceDep,
    page: PageParamsDep,
    state: StateDep,
    unread: Annotated[bool | None, Query(description="true: only unread; false: only read.")] = None,
) -> object:
    keyset = state.cursors.keyset("notifications", page)
    rows = await service.list(user.id, unread, keyset)
    return state.cursors.id_page("notifications", rows, keyset, NotificationRead.model_validate)


@router.post("/read-all", status_code=status.HTTP_204_NO_CONTENT)
async def read_all(user: CurrentUser, service: NotificationServiceDep) -> Response:
    await service.mark_all_read(user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{notification_id}/read", response_model=NotificationRead)
async def read_one(notification_id: ResourceId, user: CurrentUser, service: NotificationServiceDep) -> object:
    return await service.mark_read(user.id, notification_id)


@router.get(
    "/stream",
    summary="Server-sent events: one `notification` event per new notification",
    response_class=EventSourceResponse,
)
async def stream(user: CurrentUser, state: StateDep, request: Request) -> EventSourceResponse:
    events = state.events
    user_id = user.id
    stopping = request.app.state.lifecycle.stopping
    slots: Slots = request.app.state.stream_slots
    slots.acquire(user_id)  # 429 past MAX_STREAMS_PER_USER: one account cannot hold every slot
    held = True

    async def release() -> None:
        # Once, from whichever ends first: the stream, or the response (a stream never started).
        nonlocal held
        if held:
            held = False
            slots.release(user_id)

    async def notifications() -> AsyncIterator[ServerSentEvent]:
        try:
            async with events.subscribe(channel(user_id)) as messages:
                yield ServerSentEvent(comment="connected")
                async for data in until_set(stopping, messages):
                    if await request.is_disconnected():
                        return
                    yield ServerSentEvent(data=data, event="notification")
            # The process is shutting down: tell the client to come back soon (through the
            # balancer, to another process) rather than after its default back-off.
            yield ServerSentEvent(comment="server restarting", retry=RECONNECT_AFTER_MS)
        except REDIS_FAILURES as exc:
            # Redis (the event bus) is down, at subscription or mid-stream. The headers are
            # sent, so no 503 can be answered: end the stream cleanly with a retry hint (a
            # browser's EventSource reconnects by itself; a 503 would make it give up) rather
            # than cutting the connection. Notifications missed meanwhile are in the list.
            log.warning("stream_events_unavailable", error=repr(exc)[:300])
            yield ServerSentEvent(comment="events unavailable", retry=EVENTS_DOWN_RETRY_MS)
        finally:
            await release()

    # The ping keeps proxies from closing an idle stream.
    return EventSourceResponse(notifications(), ping=15, background=BackgroundTask(release))
