"""Bounds that keep one client from taking a whole process.

Granian admits at most ``backpressure`` requests per worker process at once (1,024 by
default); past that it stops accepting connections, health checks included. Measured
2026-12-03: about 1,030 held-open slow POSTs, or as many SSE streams of one customer,
and ``/health/live`` stopped answering. So:

- a client address may have ``MAX_REQUESTS_PER_CLIENT`` requests in progress per
  process; more answer 429 at once and free their slot (health and metrics exempt, so
  probes always get through);
- a request body must arrive within ``BODY_READ_TIMEOUT_SECONDS`` (``core.middleware``);
- a user may hold ``MAX_STREAMS_PER_USER`` server-sent event streams per process.

The address is the real client's behind a trusted proxy (``FORWARDED_ALLOW_IPS``);
behind a balancer that does not forward it, every client shares the balancer's
address, so raise the limit there or let the balancer bound clients.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp, Receive, Scope, Send

from storefront.core.errors import RateLimited, error_response

EXEMPT_PREFIXES = ("/health", "/metrics")


class Slots:
    """At most ``limit`` holders per key at once, in this process."""

    def __init__(self, limit: int, message: str) -> None:
        self.limit = limit
        self.message = message
        self._held: Counter[Hashable] = Counter()

    def held(self, key: Hashable) -> int:
        return self._held[key]

    def acquire(self, key: Hashable) -> None:
        if self._held[key] >= self.limit:
            raise RateLimited(self.message, retry_after=1)
        self._held[key] += 1

    def release(self, key: Hashable) -> None:
        self._held[key] -= 1
        if not self._held[key]:
            del self._held[key]

    @contextmanager
    def take(self, key: Hashable) -> Iterator[None]:
        self.acquire(key)
        try:
            yield
        finally:
            self.release(key)


class ClientLimitMiddleware:
    """429 for a request from an address that already has ``limit`` in progress here."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.slots = Slots(limit, f"More than {limit} requests in progress from this address; try again shortly")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else None
        try:
            self.slots.acquire(address)
        except RateLimited as refused:
            response = error_response(429, refused.code, refused.message, headers=refused.headers)
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release(address)
