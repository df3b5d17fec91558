"""Every long-lived client of a Storefront process, built from the settings.

The API's lifespan, `storefront worker` and the MCP server all build their
runtime here, so each gets the same database, cache, broker, mailer and events.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.ai.chain import ContentChain, build_chain
from storefront.ai.expansion import QueryExpander, build_expander
from storefront.ai.tasks import ai_handlers
from storefront.config import Settings, resolve_jwt_secret
from storefront.core import migrate
from storefront.core.cache import Cache
from storefront.core.db import Database, create_engine
from storefront.core.events import EventBus, LocalEventBus, RedisEventBus
from storefront.core.idempotency import PURGE_IDEMPOTENCY_KEYS, purge_expired_keys
from storefront.core.jobs import JobQueue, JobRunner, JobSystem, Sweeper
from storefront.core.mail import Mailer, build_mailer
from storefront.core.observability import Metrics
from storefront.core.pagination import CursorCodec
from storefront.core.ratelimit import RateLimiter
from storefront.core.security import PasswordHasher, TokenCodec
from storefront.core.state import AppState
from storefront.core.taskqueue import TaskiqDispatcher, build_broker
from storefront.orders.dependencies import build_order_service
from storefront.orders.service import OrderService
from storefront.orders.tasks import order_handlers
from storefront.payments.providers import PaymentProvider, build_provider

log = structlog.get_logger("storefront.runtime")


@dataclass(slots=True)
class Runtime(AppState):
    """Everything a process holds: the core clients and the AI domain's."""

    ai: ContentChain
    payments: PaymentProvider
    # Search query expansion: None unless AI_SEARCH_EXPANSION and a remote provider.
    expander: QueryExpander | None = None


def _jobs(
    settings: Settings, db: Database, mailer: Mailer, events: EventBus, ai: ContentChain, cache: Cache
) -> JobSystem:
    broker = build_broker(settings)
    dispatcher = TaskiqDispatcher(
        broker, timeout=settings.redis_timeout_seconds, retry_seconds=settings.redis_retry_seconds
    )
    queue = JobQueue(dispatcher)

    def order_services(session: AsyncSession) -> OrderService:
        return build_order_service(session, cache, queue, settings)

    handlers = order_handlers(mailer, events, settings.mail_from, settings.job_lease_seconds, order_services)
    handlers |= ai_handlers(ai, cache)
    handlers[PURGE_IDEMPOTENCY_KEYS] = purge_expired_keys
    runner = JobRunner(
        db,
        handlers,
        lease=settings.job_lease_seconds,
        retry_base=settings.job_retry_base_seconds,
        # Inline jobs run inside their caller (and may enqueue more, inline too): a bound
        # there could wait on itself.
        concurrency=None if settings.jobs_inline else settings.job_concurrency,
    )
    dispatcher.attach(runner)
    sweeper = Sweeper(runner, dispatcher, settings.job_sweep_interval_seconds, {PURGE_IDEMPOTENCY_KEYS: 3600.0})
    return JobSystem(
        broker,
        runner,
        queue,
        sweeper,
        runs_in_process=settings.redis_url is None or settings.jobs_inline,
    )


@asynccontextmanager
async def build_runtime(
    settings: Settings, metrics: Metrics, *, migrate_embedded: bool = True
) -> AsyncIterator[Runtime]:
    secret = resolve_jwt_secret(settings)
    db = Database(create_engine(settings), create_engine(settings, autocommit=True))
    redis = (
        Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5) if settings.redis_url else None
    )
    cache = Cache(settings)
    events: EventBus = RedisEventBus(redis) if redis is not None else LocalEventBus()
    mailer = build_mailer(settings.smtp_url, settings.data_dir)
    ai = build_chain(settings, redis)
    payments = build_provider(settings)
    jobs = _jobs(settings, db, mailer, events, ai, cache)
    try:
        if migrate_embedded and settings.should_auto_migrate:
            await migrate.upgrade(db.engine)
        try:
            await jobs.broker.startup()
        except (OSError, RedisError) as exc:
            # Start anyway: readiness reports Redis, and jobs wait in the outbox table
            # until a worker's sweeper hands them out.
            log.error("broker_unavailable", error=repr(exc))
        yield Runtime(
            settings=settings,
            db=db,
            redis=redis,
            limiter=RateLimiter(
                settings.redis_url,
                timeout=settings.redis_timeout_seconds,
                retry_seconds=settings.redis_retry_seconds,
            ),
            hasher=PasswordHasher(settings),
            tokens=TokenCodec(secret, settings),
            cursors=CursorCodec(secret),
            metrics=metrics,
            cache=cache,
            events=events,
            mailer=mailer,
            jobs=jobs,
            ai=ai,
            payments=payments,
            expander=build_expander(settings, ai, cache),
        )
    finally:
        with contextlib.suppress(OSError, RedisError):
            await jobs.broker.shutdown()
        await ai.aclose()
        await payments.aclose()
        await cache.close()
        if redis is not None:
            await redis.aclose()
        await db.dispose()
