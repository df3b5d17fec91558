"""The console's working pages in real headless Chromium: products created and edited
(field errors, If-Match conflicts, AI content, archive)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.async_api import Page, expect

from tests.console.conftest import Console


async def _signed_in(console: Console, page: Page) -> str:
    email = await console.admin()
    await console.sign_in(page, email)
    await expect(page.locator("#statuses")).to_be_visible()
    return email


async def test_create_a_product_with_ai_content_then_conflict_and_archive(console: Console) -> None:
    api = console.api
    category = await api.category("Contention kettles")
    console.expect_refusals(422, 412)
    page = await console.page()
    await _signed_in(console, page)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    await page.get_by_role("link", name="New product").click()
    await expect(page.get_by_role("heading", name="New product", level=1)).to_be_visible()

    # The API's 422 lands at its field, which takes the focus.
    title = f"Contended AI kettle {datetime.now(UTC):%H%M%S%f}"
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Category").select_option(category["slug"])
    await page.get_by_label("Price").fill("12.345")
    await page.get_by_label("Stock", exact=True).fill("7")
    await page.get_by_role("button", name="Create product").click()
    price = page.get_by_label("Price")
    await expect(price).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#product-price-error")).to_contain_text("decimal")
    await expect(price).to_be_focused()
    assert await console.axe(page) == []
    await console.screenshot(page, "product-new")

    await price.fill("12.50")
    await page.get_by_role("button", name="Create product").click()
    await expect(page.get_by_role("heading", name=f"Edit “{title}”", level=1)).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Created")).to_be_visible()
    product_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    # Write with AI: the offline generator answers here, and the console says so.
    await page.get_by_role("button", name="Write with AI").click()
    await expect(page.get_by_role("status").filter(has_text="offline generator (local)")).to_be_visible()
    description = await page.get_by_label("Description").input_value()
    assert description
    stored = (await api.client.get(f"/api/v1/products/{product_id}")).json()
    assert stored["description"] == description
    assert stored["seo_keywords"]
    assert await console.axe(page) == []
    await console.screenshot(page, "product-edit")

    # Someone else saves meanwhile: the console's If-Match is stale, nothing is overwritten.
    admin = await api.admin_headers()
    assert (await api.client.patch(f"/api/v1/products/{product_id}", json={"price": "15.00"}, headers=admin)).is_success
    await page.get_by_label("Stock", exact=True).fill("9")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("alert")).to_contain_text("changed by someone else")
    assert (await api.client.get(f"/api/v1/products/{product_id}")).json()["stock"] == 7
    await page.get_by_role("button", name="Reload").click()
    await expect(page.get_by_label("Price")).to_have_value("15.00")
    await page.get_by_label("Stock", exact=True).fill("9")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    assert (await api.client.get(f"/api/v1/products/{product_id}")).json()["stock"] == 9

    await page.get_by_role("button", name="Archive product").click()
    await page.get_by_role("button", name=re.compile("^Yes, archive")).click()
    await expect(page.get_by_role("heading", name="Products", level=1)).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Archived")).to_be_visible()
    assert (await api.client.get(f"/api/v1/products/{product_id}")).status_code == 404
