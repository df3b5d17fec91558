"""What the lifespan builds: every long-lived client, reached through dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from storefront.config import Settings
from storefront.core.cache import Cache
from storefront.core.db import Database
from storefront.core.events import EventBus
from storefront.core.jobs import JobSystem
from storefront.core.mail import Mailer
from storefront.core.observability import Metrics
from storefront.core.pagination import CursorCodec
from storefront.core.ratelimit import RateLimiter
from storefront.core.security import PasswordHasher, TokenCodec


@dataclass(slots=True)
class AppState:
    """The clients every domain may use. Domain-specific clients (the AI chain) live on
    the process's ``Runtime`` (``storefront.runtime``), which extends this."""

    settings: Settings
    db: Database
    redis: Redis | None
    limiter: RateLimiter
    hasher: PasswordHasher
    tokens: TokenCodec
    cursors: CursorCodec
    metrics: Metrics
    cache: Cache
    events: EventBus
    mailer: Mailer
    jobs: JobSystem
