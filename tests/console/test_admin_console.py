"""How the app serves the console's files (no browser, no build needed): pages, hashed
assets, precompressed copies, revalidation, the CSP, and a clear 503 before any build."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from storefront.admin_console import AdminConsole
from tests.helpers import assert_error

INDEX = b'<!doctype html><script type="module" src="/admin/assets/index-abc123.js"></script>'
SCRIPT = b"console.log('storefront admin');\n" * 40


@pytest.fixture
def dist(tmp_path: Path, app: FastAPI) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_bytes(INDEX)
    (tmp_path / "favicon.svg").write_bytes(b"<svg/>")
    (tmp_path / "assets" / "index-abc123.js").write_bytes(SCRIPT)
    (tmp_path / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(SCRIPT))
    (tmp_path / ".secret").write_bytes(b"not served")
    console: AdminConsole = app.state.admin_console
    console.dist = tmp_path
    return tmp_path


def assert_locked_down(response: httpx.Response) -> None:
    policy = response.headers["content-security-policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.usefixtures("dist")
async def test_every_page_of_the_app_is_index_html_revalidated(client: httpx.AsyncClient) -> None:
    for path in ("/admin/", "/admin/products", "/admin/orders/12?tab=lines"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.content == INDEX
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["cache-control"] == "no-cache"
        assert_locked_down(response)
    again = await client.get("/admin/", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    redirect = await client.get("/admin?from=2026-01-01")
    assert redirect.status_code == 308
    assert redirect.headers["location"] == "/admin/?from=2026-01-01"


@pytest.mark.usefixtures("dist")
async def test_hashed_assets_are_immutable_and_precompressed(client: httpx.AsyncClient) -> None:
    plain = await client.get("/admin/assets/index-abc123.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.content == SCRIPT
    assert "content-encoding" not in plain.headers
    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.headers["content-type"] == "text/javascript; charset=utf-8"
    assert plain.headers["vary"] == "Accept-Encoding"
    assert_locked_down(plain)

    zipped = await client.get("/admin/assets/index-abc123.js", headers={"Accept-Encoding": "br;q=0, gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(SCRIPT)
    assert zipped.content == SCRIPT  # httpx decodes it

    head = await client.head("/admin/assets/index-abc123.js")
    assert head.status_code == 200
    assert head.content == b""


@pytest.mark.usefixtures("dist")
async def test_missing_assets_and_other_files_are_not_pages(client: httpx.AsyncClient) -> None:
    # An asset of an older build must be a 404, never index.html parsed as a script.
    missing = await client.get("/admin/assets/index-old999.js")
    assert_error(missing, 404, "NOT_FOUND")
    assert_locked_down(missing)
    icon = await client.get("/admin/favicon.svg")
    assert icon.headers["content-type"] == "image/svg+xml"
    for sneaky in ("/admin/.secret", "/admin/assets/../.secret", "/admin/%2e%2e/pyproject.toml"):
        response = await client.get(sneaky)
        assert b"not served" not in response.content
        assert b"[project]" not in response.content
    refused = await client.post("/admin/", json={})
    assert_error(refused, 405, "METHOD_NOT_ALLOWED")
    assert refused.headers["allow"] == "GET, HEAD"


async def test_before_any_build_the_console_says_how_to_build_it(
    client: httpx.AsyncClient, app: FastAPI, tmp_path: Path
) -> None:
    console: AdminConsole = app.state.admin_console
    console.dist = tmp_path / "never-built"
    api_client = await client.get("/admin/", headers={"Accept": "application/json"})
    error = assert_error(api_client, 503, "SERVICE_UNAVAILABLE")
    assert "./dev serve" in error["message"]
    assert "npm run build" in error["message"]
    assert_locked_down(api_client)

    browser = await client.get("/admin/products", headers={"Accept": "text/html,application/xhtml+xml"})
    assert browser.status_code == 503
    assert browser.headers["content-type"].startswith("text/html")
    assert "./dev serve" in browser.text
    assert browser.headers["cache-control"] == "no-store"
    assert_locked_down(browser)
    # The API is not affected.
    assert (await client.get("/api/v1/categories")).status_code == 200


@pytest.mark.usefixtures("dist")
async def test_requests_are_counted_under_the_console_route(client: httpx.AsyncClient) -> None:
    await client.get("/admin/products")
    metrics = (await client.get("/metrics")).text
    assert 'route="/admin/{path:path}"' in metrics
