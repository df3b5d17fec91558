"""What the lifespan builds: every long-lived client, reached through dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from storefront.config import Settings
from storefront.core.cache import Cache
from storefront.core.db import Database
from storefront.core.events import EventBus
from storefront.core.mail import Mailer
from storefront.core.observability import Metrics
from storefront.core.pagination import CursorCodec
from storefront.core.ratelimit import RateLimiter
from storefront.core.security import PasswordHasher, TokenCodec

if TYPE_CHECKING:
    from storefront.ai.chain import ContentChain
    from storefront.ai.expansion import QueryExpander
    from storefront.runtime import JobSystem


@dataclass(slots=True)
class AppState:
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
    ai: ContentChain
    # Search query expansion: None unless AI_SEARCH_EXPANSION and a remote provider.
    expander: QueryExpander | None = None
