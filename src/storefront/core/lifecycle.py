"""How an API process leaves: drain first, then stop.

A balancer (HAProxy's health check, Kubernetes' readiness probe) only stops
sending traffic to a process after it has seen that process report "not ready".
A process that stopped accepting connections the moment SIGTERM arrived would
refuse every request sent in between. So on SIGTERM:

1. **draining** (``SHUTDOWN_DRAIN_SECONDS``): ``/health/ready`` answers 503 while
   every other request is still served as usual;
2. **stopping**: server-sent event streams end with a ``retry:`` hint (the client
   reconnects, through the balancer, to another process), the server stops
   accepting connections and in-flight requests get ``SHUTDOWN_GRACE_SECONDS``.

The signal reaches ``storefront serve``'s main process (``storefront.serve``),
which marks the drain with a file; each worker process watches for that file
here, so a worker respawned during the drain drains too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import structlog

log = structlog.get_logger("storefront.lifecycle")
T = TypeVar("T")

# How often a worker process looks for the drain marker: well inside any balancer's
# health-check interval, and a stat() ten times a second costs nothing.
MARKER_POLL_SECONDS = 0.1


class Lifecycle:
    """One API process's shutdown state, read by readiness and by long-lived streams."""

    def __init__(self, drain_seconds: float, marker: Path | None = None) -> None:
        self.drain_seconds = drain_seconds
        self.marker = marker
        self.draining = asyncio.Event()
        self.stopping = asyncio.Event()

    async def drain(self, started_at: float | None = None) -> None:
        """Report not-ready now; stop long-lived streams when the drain period is over."""
        started_at = time.time() if started_at is None else started_at
        if not self.draining.is_set():
            log.info("draining", drain_seconds=self.drain_seconds)
            self.draining.set()
        remaining = started_at + self.drain_seconds - time.time()
        if remaining > 0:
            await asyncio.sleep(remaining)
        self.stop()

    def stop(self) -> None:
        self.draining.set()
        self.stopping.set()

    async def watch(self) -> None:
        """Wait for ``storefront serve``'s drain marker, then drain (a lifespan task)."""
        if self.marker is None:
            return
        while True:
            try:
                started_at = self.marker.stat().st_mtime
            except FileNotFoundError:
                await asyncio.sleep(MARKER_POLL_SECONDS)
                continue
            await self.drain(started_at)
            return


async def until_set(event: asyncio.Event, items: AsyncIterator[T]) -> AsyncIterator[T]:
    """``items`` until they end or ``event`` is set, whichever comes first."""
    stop = asyncio.ensure_future(event.wait())
    item: asyncio.Future[T] | None = None
    try:
        while not event.is_set():
            item = asyncio.ensure_future(anext(items))
            await asyncio.wait((item, stop), return_when=asyncio.FIRST_COMPLETED)
            if not item.done():
                return
            try:
                value = item.result()
            except StopAsyncIteration:
                return
            item = None
            yield value
    finally:
        stop.cancel()
        # Closed early (the event, or the client went away): the pending read must not be
        # left behind, to fail later with nobody to hear it.
        if item is not None and not item.done():
            item.cancel()
            await asyncio.wait((item,))  # raises nothing of the item's; our own cancellation still does
            if not item.cancelled():
                item.exception()  # retrieved: it failed while being cancelled, and nobody needs it
