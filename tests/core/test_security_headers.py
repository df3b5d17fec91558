"""Security headers on every response, whatever its status; the console keeps its own CSP."""

from __future__ import annotations

import httpx

from tests.conftest import AppFactory
from tests.helpers import Api

API_CSP = "default-src 'none'; frame-ancestors 'none'"


async def test_every_api_response_carries_the_security_headers(api: Api) -> None:
    responses = [
        await api.client.get("/api/v1/products"),
        await api.client.get("/api/v1/products/999999"),
        await api.client.post("/api/v1/auth/login", content=b"{"),
        await api.client.get("/health/live"),
    ]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["content-security-policy"] == API_CSP
        assert "strict-transport-security" not in response.headers  # development: no HSTS


async def test_html_pages_keep_their_own_policy_and_production_adds_hsts(make_api: AppFactory) -> None:
    api: Api = await make_api(env="production")
    docs: httpx.Response = await api.client.get("/docs")
    assert docs.headers["content-type"].startswith("text/html")
    assert docs.headers.get("content-security-policy") != API_CSP  # the docs page must run its scripts
    assert docs.headers["x-content-type-options"] == "nosniff"
    products = await api.client.get("/api/v1/products")
    assert products.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_the_api_docs_load_nothing_from_other_sites(api: Api) -> None:
    page = await api.client.get("/docs")
    assert page.status_code == 200
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text
    assert "https://" not in page.text.replace("https://fastapi.tiangolo.com", "")
    script = await api.client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert (await api.client.get("/docs/oauth2-redirect")).status_code == 200
