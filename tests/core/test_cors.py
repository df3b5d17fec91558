"""CORS exactly as configured: real preflights (OPTIONS with Origin and
Access-Control-Request-*), allowed and refused origins, never credentials."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from storefront.config import Settings
from tests.conftest import AppFactory
from tests.helpers import Api, assert_error

SHOP = "https://shop.example.com"


def preflight(origin: str, method: str = "POST", headers: str = "authorization, content-type") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.startswith("access-control-")}


async def test_an_allowed_origin_gets_its_preflight_and_its_responses_answered(make_api: AppFactory) -> None:
    api: Api = await make_api(cors_origins=[SHOP, "http://localhost:5173"])
    response = await api.client.options("/api/v1/orders", headers=preflight(SHOP))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SHOP
    assert "POST" in response.headers["access-control-allow-methods"].split(", ")
    assert response.headers["access-control-allow-headers"] == "authorization, content-type"
    assert "access-control-allow-credentials" not in response.headers
    assert "Origin" in response.headers["vary"]

    # The actual request: the origin echoed, the headers a client needs exposed.
    listed = await api.client.get("/api/v1/products", headers={"Origin": SHOP})
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == SHOP
    exposed = listed.headers["access-control-expose-headers"].split(", ")
    assert {"X-Request-ID", "ETag", "Location", "Retry-After", "Idempotent-Replayed"} <= set(exposed)
    assert "access-control-allow-credentials" not in listed.headers
    assert "Origin" in listed.headers["vary"]

    # Errors carry them too, so a browser script can read the envelope.
    missing = await api.client.get("/api/v1/products/999999", headers={"Origin": SHOP})
    assert_error(missing, 404, "NOT_FOUND")
    assert missing.headers["access-control-allow-origin"] == SHOP


async def test_an_origin_not_listed_gets_no_cors_header(make_api: AppFactory) -> None:
    api: Api = await make_api(cors_origins=[SHOP])
    for origin in ("https://evil.example.com", "https://shop.example.com.evil.example", "http://shop.example.com"):
        refused = await api.client.options("/api/v1/orders", headers=preflight(origin))
        error = assert_error(refused, 400, "BAD_REQUEST")
        assert error["message"] == "CORS preflight refused: origin not allowed"
        assert cors_headers(refused) == {}, origin
        # A plain request is answered (CORS is the browser's to enforce), but without
        # the headers that would let a script of that origin read the answer.
        read = await api.client.get("/api/v1/products", headers={"Origin": origin})
        assert read.status_code == 200
        assert cors_headers(read) == {}, origin
        assert "Origin" in read.headers["vary"]


async def test_the_wildcard_allows_any_origin_without_credentials(make_api: AppFactory) -> None:
    api: Api = await make_api(cors_origins=["*"])
    response = await api.client.options("/api/v1/auth/login", headers=preflight("https://anyone.example"))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    read = await api.client.get("/api/v1/products", headers={"Origin": "https://anyone.example"})
    assert read.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in read.headers


async def test_without_cors_origins_there_is_no_cors(api: Api) -> None:
    refused = await api.client.options("/api/v1/orders", headers=preflight(SHOP))
    assert_error(refused, 405, "METHOD_NOT_ALLOWED")
    assert cors_headers(refused) == {}
    read = await api.client.get("/api/v1/products", headers={"Origin": SHOP})
    assert cors_headers(read) == {}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://shop.example.com, http://localhost:5173", ["https://shop.example.com", "http://localhost:5173"]),
        ("*", ["*"]),
        ("http://[::1]:8080", ["http://[::1]:8080"]),
        ("", []),
    ],
)
def test_cors_origins_are_read_as_listed(given: str, expected: list[str], tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, cors_origins=given)  # type: ignore[arg-type]
    assert settings.cors_origins == expected


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("https://shop.example.com/", "is not an origin"),
        ("https://shop.example.com/app", "is not an origin"),
        ("https://Shop.example.com", "is not an origin"),
        ("shop.example.com", "is not an origin"),
        ("*, https://shop.example.com", "give it alone"),
    ],
)
def test_origins_that_could_never_match_are_refused_at_start(given: str, complaint: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Settings(_env_file=None, data_dir=tmp_path, cors_origins=given)  # type: ignore[arg-type]
