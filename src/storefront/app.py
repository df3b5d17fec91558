"""The application factory: routers, middleware, error handlers, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from redis.asyncio import Redis
from starlette.middleware.cors import CORSMiddleware

from storefront import __version__
from storefront.catalog.router import categories_router, products_router
from storefront.config import Settings, resolve_jwt_secret
from storefront.core import migrate
from storefront.core.cache import Cache
from storefront.core.db import Database, create_engine
from storefront.core.errors import install_error_handlers
from storefront.core.health import router as health_router
from storefront.core.logging import configure_logging
from storefront.core.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from storefront.core.observability import Metrics
from storefront.core.pagination import CursorCodec
from storefront.core.ratelimit import RateLimiter
from storefront.core.security import PasswordHasher, TokenCodec
from storefront.core.state import AppState
from storefront.identity.router import auth_router, users_router

log = structlog.get_logger("storefront.app")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    secret = resolve_jwt_secret(settings)
    db = Database(create_engine(settings))
    redis = (
        Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5) if settings.redis_url else None
    )
    cache = Cache(settings)
    try:
        if settings.should_auto_migrate:
            await migrate.upgrade(db.engine)
        app.state.storefront = AppState(
            settings=settings,
            db=db,
            redis=redis,
            limiter=RateLimiter(settings.redis_url),
            hasher=PasswordHasher(settings),
            tokens=TokenCodec(secret, settings),
            cursors=CursorCodec(secret),
            metrics=app.state.metrics,
            cache=cache,
        )
        log.info("started", env=settings.env, database=db.dialect, redis=redis is not None)
        yield
    finally:
        await cache.close()
        if redis is not None:
            await redis.aclose()
        await db.dispose()


def _pool_gauges(app: FastAPI) -> dict[str, float]:
    state: AppState | None = getattr(app.state, "storefront", None)
    if state is None:
        return {}
    pool = state.db.engine.pool
    stats: dict[str, float] = {}
    for kind in ("size", "checkedout", "overflow", "checkedin"):
        reader = getattr(pool, kind, None)
        if callable(reader):
            stats[kind] = float(reader())
    return stats


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.resolved_log_format)
    metrics = Metrics()
    app = FastAPI(
        title="Storefront",
        version=__version__,
        summary="An async storefront API.",
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    metrics.add_gauges("db_pool_connections", "Database pool connections by state.", lambda: _pool_gauges(app))

    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(auth_router)
    app.include_router(users_router)
    app.include_router(categories_router)
    app.include_router(products_router)

    # Added innermost first: the request context wraps everything, so even a 413
    # or a CORS refusal carries a request id and is logged.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "ETag", "Location", "Retry-After", "Idempotent-Replayed"],
        )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app
