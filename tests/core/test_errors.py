"""The error envelope on every path: unknown routes, wrong methods, bad bodies, 500s."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.helpers import assert_error


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
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/api/v1/_boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2 SELECT * FROM users")

    with caplog.at_level(logging.ERROR):
        response = await client.get("/api/v1/_boom")
    error = assert_error(response, 500, "INTERNAL_ERROR")
    assert "hunter2" not in response.text
    assert "SELECT" not in response.text
    assert "RuntimeError" not in response.text
    assert error["request_id"]
    assert any("hunter2" in (record.exc_text or "") or record.exc_info for record in caplog.records)


async def test_request_id_is_echoed_when_safe_and_generated_otherwise(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/health", headers={"X-Request-ID": "trace-abc.123"})
    assert echoed.headers["x-request-id"] == "trace-abc.123"
    generated = await client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32
    hostile = await client.get("/health", headers={"X-Request-ID": "a\tb" + "x" * 300})
    assert hostile.headers["x-request-id"] != "a\tb" + "x" * 300
