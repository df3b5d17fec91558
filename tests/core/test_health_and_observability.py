"""Health probes, readiness failures, metrics and the access log."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from storefront.app import create_app
from storefront.core import migrate
from tests.conftest import make_settings
from tests.helpers import Api, assert_error


async def test_liveness_and_health(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "healthy"}
    assert (await client.get("/health/live")).status_code == 200


async def test_ready_checks_the_database_and_redis_when_configured(api: Api) -> None:
    response = await api.client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert ("redis" in body["checks"]) == (api.state.redis is not None)


async def _ready(tmp_path: Path, **overrides: object) -> httpx.Response:
    app = create_app(
        make_settings(tmp_path, health_check_timeout_seconds=1.0, db_connect_timeout_seconds=1.0, **overrides)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/health/ready")


async def test_ready_is_503_naming_the_database_when_it_is_unreachable(tmp_path: Path) -> None:
    response = await _ready(tmp_path, database_url="postgresql://postgres@127.0.0.1:1/nowhere", redis_url=None)
    error = assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert error["details"]["checks"]["database"] in {"unavailable", "timeout"}
    assert "database" in error["message"]
    assert "127.0.0.1:1" not in response.text  # no connection details leak


async def test_ready_is_503_naming_redis_when_it_is_unreachable(tmp_path: Path) -> None:
    response = await _ready(tmp_path, redis_url="redis://127.0.0.1:1/0", auto_migrate=True)
    error = assert_error(response, 503, "SERVICE_UNAVAILABLE")
    checks = error["details"]["checks"]
    assert checks == {"database": "ok", "schema": "ok", "redis": checks["redis"]}
    assert error["details"]["checks"]["redis"] in {"unavailable", "timeout"}


async def test_ready_is_503_on_an_unmigrated_database_until_it_is_migrated(tmp_path: Path) -> None:
    # Every route would answer 500 on a database without tables: not ready to serve.
    app = create_app(make_settings(tmp_path, redis_url=None, auto_migrate=False))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        error = assert_error(await client.get("/health/ready"), 503, "SERVICE_UNAVAILABLE")
        assert error["details"]["checks"]["database"] == "ok"
        assert error["details"]["checks"]["schema"] == "not migrated: run `storefront db upgrade`"
        await migrate.upgrade(app.state.storefront.db.engine, "0001")
        error = assert_error(await client.get("/health/ready"), 503, "SERVICE_UNAVAILABLE")
        assert error["details"]["checks"]["schema"].startswith("behind: at 0001")
        await migrate.upgrade(app.state.storefront.db.engine)
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["schema"] == "ok"


async def test_metrics_by_route_template_and_status(api: Api) -> None:
    await api.client.get("/api/v1/users/me")
    await api.client.get("/api/v1/users/12345")  # a PATCH-only path: 405, still one template
    await api.client.get("/no/such/path")
    text = (await api.client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/api/v1/users/me",status="401"} 1.0' in text
    assert 'route="/no/such/path"' not in text
    assert 'route="<unmatched>"' in text
    assert "http_request_duration_seconds_bucket" in text
    assert "db_pool_connections" in text


async def _json_log_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str], *paths: str) -> list[dict[str, object]]:
    app = create_app(make_settings(tmp_path, log_format="json", redis_url=None))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        capsys.readouterr()
        for path in paths:
            await client.get(path, headers={"X-Request-ID": "req-42"})
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]


async def test_one_access_log_line_per_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = await _json_log_lines(tmp_path, capsys, "/api/v1/users/me")
    access = [line for line in lines if line.get("logger") == "storefront.access"]
    assert len(access) == 1
    line = access[0]
    assert line["event"] == "request"
    assert line["method"] == "GET"
    assert line["route"] == "/api/v1/users/me"
    assert line["status"] == 401
    assert line["request_id"] == "req-42"
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "info"


async def test_production_logs_are_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = create_app(make_settings(tmp_path, env="production", log_format=None, redis_url=None))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        await client.get("/health")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line.get("event") == "request"]
    assert request_lines
    assert {"method", "route", "status", "duration_ms", "request_id", "timestamp", "level"} <= set(request_lines[0])
