"""Liveness, readiness and metrics endpoints (outside /api/v1 by contract)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from storefront.core.dependencies import StateDep
from storefront.core.errors import ServiceUnavailable
from storefront.core.lifecycle import Lifecycle
from storefront.core.migrate import schema_behind
from storefront.core.state import AppState

router = APIRouter(tags=["health"])
log = structlog.get_logger("storefront.health")


@router.get("/health", summary="The process answers")
async def health() -> dict[str, str]:
    return {"status": "healthy"}


@router.get("/health/live", summary="Liveness probe")
async def live() -> dict[str, str]:
    return {"status": "alive"}


async def _check(name: str, probe: Callable[[], Awaitable[object]], timeout: float) -> str:
    try:
        await asyncio.wait_for(probe(), timeout)
    except TimeoutError:
        log.warning("readiness_check_failed", check=name, reason="timeout")
        return "timeout"
    except Exception as exc:  # any failure of a dependency means "not ready"
        log.warning("readiness_check_failed", check=name, error=repr(exc))
        return "unavailable"
    return "ok"


@router.get(
    "/health/ready",
    summary="Readiness probe: the database, and Redis when configured",
    responses={
        503: {
            "description": "A dependency is down (`details.checks` names it), or the process is draining "
            "before it stops (`details.draining`)"
        }
    },
)
async def ready(state: StateDep, request: Request) -> dict[str, object]:
    lifecycle: Lifecycle = request.app.state.lifecycle
    if lifecycle.draining.is_set():
        # Balancers take the process out of rotation; it still serves what they send meanwhile.
        raise ServiceUnavailable("Not ready: shutting down", details={"draining": True})
    timeout = state.settings.health_check_timeout_seconds
    probes: dict[str, Callable[[], Awaitable[object]]] = {
        "database": lambda: state.db.ping(timeout),
    }
    if state.redis is not None:
        redis = state.redis
        probes["redis"] = redis.ping
    results = await asyncio.gather(*(_check(name, probe, timeout) for name, probe in probes.items()))
    checks = dict(zip(probes, results, strict=True))
    if checks["database"] == "ok":
        checks["schema"] = await _schema(request, state)
    failed = [name for name, result in checks.items() if result != "ok"]
    if failed:
        raise ServiceUnavailable(f"Not ready: {', '.join(failed)}", details={"checks": checks})
    return {"status": "ok", "checks": checks}


async def _schema(request: Request, state: AppState) -> str:
    """ "ok" once the database's schema can serve this code (then remembered: a schema does
    not go back), else why not: an unmigrated database would answer every route with 500."""
    if getattr(request.app.state, "schema_ok", False):
        return "ok"
    try:
        behind = await asyncio.wait_for(schema_behind(state.db.engine), state.settings.health_check_timeout_seconds)
    except Exception as exc:  # any failure to tell means "not ready"
        log.warning("readiness_check_failed", check="schema", error=repr(exc))
        return "unavailable"
    if behind is not None:
        log.warning("readiness_check_failed", check="schema", reason=behind)
        return behind
    request.app.state.schema_ok = True
    return "ok"


@router.get("/metrics", include_in_schema=False)
async def metrics(state: StateDep) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
