"""The application factory: routers, middleware, error handlers, lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import Depends, FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from storefront import __version__
from storefront.admin_console import mount_admin_console
from storefront.ai.breaker import CircuitState
from storefront.ai.metrics import AiCollector, AiMetrics
from storefront.ai.router import router as ai_router
from storefront.analytics.router import router as analytics_router
from storefront.cart.router import router as cart_router
from storefront.catalog.router import categories_router, products_router
from storefront.checkout.router import router as checkout_router
from storefront.config import Settings
from storefront.core.apidocs import mount_api_docs
from storefront.core.cors import Cors
from storefront.core.errors import install_error_handlers
from storefront.core.health import router as health_router
from storefront.core.lifecycle import Lifecycle
from storefront.core.limits import ClientLimitMiddleware, Slots
from storefront.core.logging import configure_logging
from storefront.core.middleware import BodyLimitsMiddleware, HeadLimitsMiddleware, RequestContextMiddleware
from storefront.core.observability import Metrics
from storefront.core.outages import install_outage_handlers
from storefront.core.params import single_valued_query
from storefront.dashboard.router import router as dashboard_router
from storefront.identity.router import auth_router, users_router
from storefront.jobs.router import router as jobs_router
from storefront.mcp.http import McpEndpoint
from storefront.notifications.router import router as notifications_router
from storefront.openapi import install_openapi
from storefront.orders.router import router as orders_router
from storefront.payments.router import router as payments_router
from storefront.reports.router import router as reports_router
from storefront.runtime import Runtime, build_runtime
from storefront.shipping.router import router as shipping_router
from storefront.taxes.router import router as taxes_router
from storefront.todos.router import router as todos_router

log = structlog.get_logger("storefront.app")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    lifecycle: Lifecycle = app.state.lifecycle
    async with build_runtime(settings, app.state.metrics) as state, app.state.mcp.running(state):
        app.state.storefront = state
        jobs = state.jobs
        background = [asyncio.create_task(lifecycle.watch(), name="drain-watch")]
        if jobs.runs_in_process and not settings.jobs_inline:
            # No broker to a separate worker: this process sweeps and runs its jobs.
            background.append(asyncio.create_task(jobs.sweeper.run_forever(), name="job-sweeper"))
        log.info("started", env=settings.env, database=state.db.dialect, redis=state.redis is not None)
        try:
            yield
        finally:
            lifecycle.stop()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            if jobs.runs_in_process:
                # Jobs this process was running finish within the grace, or go back to the queue.
                await jobs.runner.drain(settings.shutdown_grace_seconds)


def _pool_gauges(app: FastAPI) -> dict[str, float]:
    state: Runtime | None = getattr(app.state, "storefront", None)
    if state is None:
        return {}
    pool = state.db.engine.pool
    stats: dict[str, float] = {}
    for kind in ("size", "checkedout", "overflow", "checkedin"):
        reader = getattr(pool, kind, None)
        if callable(reader):
            stats[kind] = float(reader())
    return stats


def _queue_depth(app: FastAPI) -> dict[str, float]:
    state: Runtime | None = getattr(app.state, "storefront", None)
    return {"jobs": float(state.jobs.sweeper.depth)} if state is not None else {}


def _ai_metrics(app: FastAPI) -> tuple[AiMetrics, dict[str, CircuitState]] | None:
    state: Runtime | None = getattr(app.state, "storefront", None)
    return (state.ai.metrics, state.ai.circuits()) if state is not None else None


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
        docs_url=None,  # served from a package by core/apidocs.py
        dependencies=[Depends(single_valued_query)],
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.lifecycle = Lifecycle(settings.shutdown_drain_seconds, settings.drain_marker)
    app.state.stream_slots = Slots(
        settings.max_streams_per_user, f"At most {settings.max_streams_per_user} live streams per account at once"
    )
    metrics.add_gauges("db_pool_connections", "Database pool connections by state.", lambda: _pool_gauges(app))
    metrics.add_gauges("job_queue_depth", "Jobs pending or running, as of the last sweep.", lambda: _queue_depth(app))
    metrics.registry.register(AiCollector(lambda: _ai_metrics(app)))

    install_error_handlers(app)
    install_outage_handlers(app)
    mount_api_docs(app)
    install_openapi(app)
    app.include_router(health_router)
    app.include_router(auth_router)
    app.include_router(users_router)
    app.include_router(categories_router)
    app.include_router(products_router)
    app.include_router(orders_router)
    app.include_router(cart_router)
    app.include_router(checkout_router)
    app.include_router(payments_router)
    app.include_router(shipping_router)
    app.include_router(taxes_router)
    app.include_router(notifications_router)
    app.include_router(jobs_router)
    app.include_router(todos_router)
    app.include_router(dashboard_router)
    app.include_router(analytics_router)
    app.include_router(reports_router)
    app.include_router(ai_router)
    # The Model Context Protocol for AI agents (docs/mcp.md): same services, same tokens.
    app.state.mcp = McpEndpoint()
    app.add_route("/mcp", app.state.mcp, include_in_schema=False)
    # The admin console (docs/admin.md): static files of a client of the API above.
    mount_admin_console(app)

    # Added innermost first: the request context wraps everything, so even a 413
    # or a CORS refusal carries a request id and is logged.
    app.add_middleware(
        BodyLimitsMiddleware,
        max_bytes=settings.max_body_bytes,
        read_timeout=settings.body_read_timeout_seconds,
        max_json_depth=settings.max_json_depth,
    )
    if settings.cors_origins:
        app.add_middleware(Cors, origins=settings.cors_origins)
    app.add_middleware(ClientLimitMiddleware, limit=settings.max_requests_per_client)
    app.add_middleware(
        HeadLimitsMiddleware, max_header_bytes=settings.max_header_bytes, max_url_bytes=settings.max_url_bytes
    )
    app.add_middleware(RequestContextMiddleware, metrics=metrics, hsts=settings.env == "production")
    # Outermost: the client address is the real one (behind a trusted proxy) before
    # anything logs it or throttles logins by it.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    return app
