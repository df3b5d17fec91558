"""Filling every product that misses content: the service in-process, and the CLI command as a user runs it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storefront.ai.fill import count_missing, fill_missing
from storefront.ai.service import ContentService
from storefront.catalog.cache import CatalogCache
from tests.ai.conftest import ai_api, new_product
from tests.ai.fake_provider import GOOD, FakeProvider, status
from tests.conftest import AppFactory
from tests.helpers import storefront


async def test_fill_writes_every_product_missing_content(
    make_api: AppFactory, first: FakeProvider, second: FakeProvider
) -> None:
    first.then(status(500), status(500))  # the first product falls back to the second provider
    api = await ai_api(make_api, first, second, ai_max_attempts=2)
    state = api.state
    before = await count_missing(state.db)
    complete = await new_product(api, description="Done.", seo_keywords=["a", "b", "c", "d", "e"])
    missing = [await new_product(api, title=f"Lamp {n}") for n in range(5)]
    partial = await new_product(api, description="Has text, no keywords.")
    assert await count_missing(state.db) == before + 6
    advanced: list[int] = []
    service = ContentService(state.db, state.ai, CatalogCache(state.cache))
    # One at a time: the test's sessions share one connection (the CLI test runs several at once).
    report = await fill_missing(state.db, service, 1, lambda: advanced.append(1))
    assert report.failed == []
    assert report.filled == before + 6
    assert report.providers.get(second.entry()) == 1
    assert len(advanced) == before + 6
    assert await count_missing(state.db) == 0
    for product in missing:
        stored = (await api.client.get(f"/api/v1/products/{product['id']}")).json()
        assert stored["description"] == GOOD["description"]
    stored = (await api.client.get(f"/api/v1/products/{partial['id']}")).json()
    assert stored["description"] == "Has text, no keywords."
    assert stored["seo_keywords"] == GOOD["seo_keywords"]
    untouched = (await api.client.get(f"/api/v1/products/{complete['id']}")).json()
    assert untouched["description"] == "Done."


async def test_fill_reports_products_no_provider_could_write(make_api: AppFactory, first: FakeProvider) -> None:
    first.default = status(500)
    api = await ai_api(make_api, first, ai_local_enabled=False, ai_job_budget_seconds=0.5)
    state = api.state
    before = await count_missing(state.db)
    product = await new_product(api)
    service = ContentService(state.db, state.ai, CatalogCache(state.cache))
    report = await fill_missing(state.db, service, 1, lambda: None)
    assert product["id"] in report.failed
    assert report.filled == 0
    assert await count_missing(state.db) == before + 1


def test_the_cli_fills_missing_content_with_a_progress_bar(tmp_path: Path) -> None:
    seeded = storefront(tmp_path, "seed", "--products", "6")
    assert seeded.returncode == 0, seeded.stderr
    database = tmp_path / "storefront-data" / "storefront.db"
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE products SET description = '' WHERE id <= 2")
        connection.execute("UPDATE products SET seo_keywords = '[]' WHERE id = 3")
    result = storefront(tmp_path, "ai", "fill", "--concurrency", "2")
    assert result.returncode == 0, result.stderr
    assert "filled 3 products (local: 3), 0 failed" in result.stdout
    assert "products" in result.stdout  # the progress bar's label
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT description, seo_keywords FROM products WHERE id <= 3 ORDER BY id").fetchall()
    assert all(description and keywords != "[]" for description, keywords in rows)
    again = storefront(tmp_path, "ai", "fill")
    assert "filled 0 products (none), 0 failed" in again.stdout
