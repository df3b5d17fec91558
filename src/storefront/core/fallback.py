"""A breaker for Redis: after a failure, skip it for a while and use the fallback.

Redis holds nothing here that the app cannot do without for a minute (cached reads,
login counts, the hand-out of jobs whose rows are in the database), so a Redis that is
down must cost a request nothing, not a timeout on every call: the first failure trips
the breaker, and for ``REDIS_RETRY_SECONDS`` the caller goes straight to its fallback.
Then one call tries Redis again. Each trip and recovery is logged once, not per call.
"""

from __future__ import annotations

import time

import structlog
from redis.exceptions import RedisError

log = structlog.get_logger("storefront.redis")

# What "Redis is unreachable or too slow" looks like from redis-py (TimeoutError and
# ConnectionRefusedError are OSErrors).
REDIS_FAILURES: tuple[type[Exception], ...] = (RedisError, OSError)


class Breaker:
    def __init__(self, component: str, fallback: str, retry_seconds: float) -> None:
        self.component = component
        self.fallback = fallback
        self.retry_seconds = retry_seconds
        self._until = 0.0
        self._tripped = False

    @property
    def open(self) -> bool:
        """True while Redis should not be tried (it failed less than ``retry_seconds`` ago)."""
        return time.monotonic() < self._until

    def trip(self, exc: BaseException) -> None:
        self._until = time.monotonic() + self.retry_seconds
        if not self._tripped:
            self._tripped = True
            log.warning("redis_unavailable", component=self.component, fallback=self.fallback, error=repr(exc)[:300])

    def succeeded(self) -> None:
        if self._tripped:
            self._tripped = False
            log.info("redis_recovered", component=self.component)
