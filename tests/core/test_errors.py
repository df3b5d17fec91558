"""The error envelope on every path: unknown routes, wrong methods, bad bodies, 500s."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from storefront.app import create_app
from tests.conftest import make_settings
from tests.helpers import Api, assert_error


async def test_unknown_route_is_enveloped_404(client: httpx.AsyncClient) -> None:
    error = assert_error(await client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    assert error["details"] is None


async def test_wrong_method_is_enveloped_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["allow"]


async def test_validation_error_lists_fields_by_path(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={"email": "not-an-email", "password": "short", "name": " "}
    )
    error = assert_error(response, 422, "VALIDATION_ERROR")
    fields = {detail["field"] for detail in error["details"]}
    assert fields == {"email", "password", "name"}
    assert all(detail["message"] for detail in error["details"])


async def test_query_validation_error_names_the_parameter(client: httpx.AsyncClient, api: object) -> None:
    from tests.helpers import Api, bearer

    assert isinstance(api, Api)
    admin = await api.admin_tokens()
    response = await client.get("/api/v1/users", params={"limit": 0}, headers=bearer(admin["access_token"]))
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert error["details"][0]["field"] == "limit"


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "BAD_REQUEST")


async def test_declared_oversize_body_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=b"x" * (1024 * 1024 + 1), headers={"content-type": "application/json"}
    )
    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert "1048576" in error["message"]


async def test_streamed_oversize_body_without_length_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"x" * 65536

    response = await client.post("/api/v1/auth/login", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_unexpected_exception_is_generic_500_with_traceback_only_in_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(make_settings(tmp_path, log_format="json", redis_url=None))

    @app.get("/api/v1/_boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2 SELECT * FROM users")

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        response = await client.get("/api/v1/_boom")
    error = assert_error(response, 500, "INTERNAL_ERROR")
    for secret in ("hunter2", "SELECT", "RuntimeError", "Traceback"):
        assert secret not in response.text
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    failures = [line for line in logged if line.get("event") == "unhandled_error"]
    assert len(failures) == 1
    assert failures[0]["request_id"] == error["request_id"]
    assert "hunter2" in failures[0]["exception"]
    assert "Traceback" in failures[0]["exception"]


async def test_request_id_is_echoed_when_safe_and_generated_otherwise(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/health", headers={"X-Request-ID": "trace-abc.123"})
    assert echoed.headers["x-request-id"] == "trace-abc.123"
    generated = await client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32
    hostile = await client.get("/health", headers={"X-Request-ID": "a\tb" + "x" * 300})
    assert hostile.headers["x-request-id"] != "a\tb" + "x" * 300


async def test_405_lists_every_method_of_the_path(api: Api) -> None:
    for path, allowed in [
        ("/api/v1/products", "GET, POST"),
        ("/api/v1/products/1", "DELETE, GET, PATCH, PUT"),
        ("/api/v1/users/me", "GET, PATCH"),
    ]:
        response = await api.client.request("OPTIONS", path)
        assert_error(response, 405, "METHOD_NOT_ALLOWED")
        assert response.headers["allow"] == allowed


async def test_wrong_credentials_and_taken_emails_are_documented(api: Api) -> None:
    schema = (await api.client.get("/openapi.json")).json()["paths"]
    for path in ("/api/v1/auth/login", "/api/v1/auth/token", "/api/v1/auth/refresh"):
        assert "401" in schema[path]["post"]["responses"]
    assert "409" in schema["/api/v1/auth/register"]["post"]["responses"]
