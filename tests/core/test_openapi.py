"""The OpenAPI schema documents the errors the API answers, with the contract's envelope."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import Api


def _responses(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    responses: dict[str, Any] = schema["paths"][path][method]["responses"]
    return responses


async def test_every_error_response_is_the_envelope(api: Api) -> None:
    schema = (await api.client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert set(schema["components"]["schemas"]["ErrorBody"]["required"]) == {"code", "message", "request_id", "details"}
    errors = 0
    for item in schema["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    errors += 1
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert errors > 300
    me = _responses(schema, "get", "/api/v1/users/me")
    assert me["401"]["headers"]["WWW-Authenticate"]
    assert me["503"]["headers"]["Retry-After"]
    assert "403" not in me  # any user may read their own account
    assert "403" in _responses(schema, "get", "/api/v1/users")
    assert "503" not in _responses(schema, "get", "/health/live")


async def test_the_statuses_answered_are_the_ones_documented(api: Api) -> None:
    schema = (await api.client.get("/openapi.json")).json()
    customer = await api.customer()
    calls: list[tuple[str, str, httpx.Response]] = [
        ("get", "/api/v1/users/me", await api.client.get("/api/v1/users/me")),
        ("get", "/api/v1/users", await api.client.get("/api/v1/users", headers=customer)),
        ("get", "/api/v1/products/{product_id}", await api.client.get("/api/v1/products/999999")),
        ("get", "/api/v1/products", await api.client.get("/api/v1/products", params={"cursor": "not-ours"})),
        ("get", "/api/v1/products", await api.client.get("/api/v1/products", params={"limit": 1000})),
        ("post", "/api/v1/todos", await api.client.post("/api/v1/todos", content=b"{", headers=customer)),
        ("post", "/api/v1/todos", await api.client.post("/api/v1/todos", json={"title": ""}, headers=customer)),
        ("get", "/api/v1/products", await api.client.get("/api/v1/products", params={"q": "x" * 9000})),
    ]
    seen = set()
    for method, path, response in calls:
        seen.add(response.status_code)
        assert str(response.status_code) in _responses(schema, method, path), (method, path, response.status_code)
    assert seen == {400, 401, 403, 404, 414, 422}
