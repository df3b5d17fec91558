"""The console's working pages in real headless Chromium: products created and edited
(field errors, If-Match conflicts, AI content, archive), orders arriving live and moved
through their lifecycle."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from playwright.async_api import Page, expect

from tests.console.conftest import Console
from tests.helpers import bearer

LIVE_WAIT_MS = 15_000  # an order reaches the list through the stream or the 4 s poll


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


async def test_an_order_appears_live_and_moves_through_its_lifecycle(console: Console) -> None:
    api = console.api
    category = await api.category("Contention live")
    lamp = await api.product(category["slug"], "Contended live lamp", price="8.00", stock=6, low_stock_threshold=5)
    console.expect_refusals(409)
    page = await console.page()
    await _signed_in(console, page)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    await expect(page.get_by_role("heading", name="Orders", level=1)).to_be_visible()
    await expect(page.locator("[data-stream=live]")).to_be_visible()

    # Placed through the API: the list shows it, and the low stock it caused arrives
    # over the stream as a notification, without a reload.
    buyer = await api.register()
    headers = bearer((await api.login(buyer["email"]))["access_token"])
    response = await api.order(headers, (lamp["id"], 2))
    assert response.status_code == 201
    order: dict[str, Any] = response.json()
    row = page.locator(f'tr[data-order-id="{order["id"]}"]')
    await expect(row).to_be_visible(timeout=LIVE_WAIT_MS)
    await expect(row).to_contain_text("16.00")
    toast = page.locator(".toast[data-kind=low_stock]")
    await expect(toast).to_contain_text("Contended live lamp", timeout=LIVE_WAIT_MS)
    await expect(page.get_by_role("button", name=re.compile("^Notifications.*unread"))).to_be_visible()
    assert await console.axe(page) == []
    await console.screenshot(page, "orders")

    # The filters: by status and by customer.
    await page.get_by_label("Customer").select_option(str(buyer["id"]))
    await expect(page.locator("table.orders tbody tr")).to_have_count(1)
    await page.get_by_label("Status").select_option("shipped")
    await expect(page.get_by_role("status").filter(has_text="No orders match")).to_be_visible()
    await page.get_by_label("Status").select_option("placed")
    await expect(row).to_be_visible()

    await row.get_by_role("link").click()
    await expect(page.get_by_role("heading", name=f"Order #{order['id']}", level=1)).to_be_visible()
    await expect(page.locator("#order-status")).to_have_text("Placed")
    await expect(page.locator("#order-total")).to_have_text("16.00")
    lifecycle = page.get_by_role("group", name="Lifecycle")
    await expect(lifecycle.get_by_role("button")).to_have_text(["Mark shipped", "Cancel order"])
    assert await console.axe(page) == []
    await console.screenshot(page, "order")

    # Another administrator ships it first: the API's 409 is shown, and the page catches up.
    admin = await api.admin_headers()
    moved = await api.client.post(f"/api/v1/orders/{order['id']}/status", json={"status": "shipped"}, headers=admin)
    assert moved.is_success
    await lifecycle.get_by_role("button", name="Mark shipped").click()
    await expect(page.get_by_role("alert")).to_contain_text("Mark shipped was refused")
    await expect(page.locator("#order-status")).to_have_text("Shipped")
    await expect(lifecycle.get_by_role("button")).to_have_text(["Mark delivered"])

    # From the keyboard: the move is a button like any other.
    await lifecycle.get_by_role("button", name="Mark delivered").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#order-status")).to_have_text("Delivered")
    await expect(page.get_by_text("No further step")).to_be_visible()
    assert (await api.client.get(f"/api/v1/orders/{order['id']}", headers=headers)).json()["status"] == "delivered"
