"""The console's working pages in real headless Chromium: products created and edited
(field errors, If-Match conflicts, AI content, archive), orders arriving live and moved
through their lifecycle and refunded, dead jobs replayed, AI status, users' roles and deactivation;
each page checked by axe-core, at 375 px and from the keyboard."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from playwright.async_api import Page, expect
from sqlalchemy import update

from storefront.core.jobs import Job
from tests.console.conftest import Console
from tests.console.test_console import NARROW, _no_horizontal_scroll
from tests.helpers import bearer

LIVE_WAIT_MS = 15_000  # an order reaches the list through the stream or the 4 s poll


async def _open(console: Console, page: Page, path: str, heading: str | re.Pattern[str]) -> None:
    await page.goto(console.url(f"/admin{path}"))
    await expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()


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
    await page.evaluate("window.scrollTo(0, 0)")
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
    await page.evaluate("window.scrollTo(0, 0)")
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
    # A second administrator watches the dashboard meanwhile.
    board = await console.page()
    await _signed_in(console, board)
    await expect(board.locator("[data-stream=live]")).to_be_visible()
    today = datetime.now(UTC).date().isoformat()
    bar = board.locator(f'#orders-chart rect[data-date="{today}"]')
    orders_before = int(await bar.get_attribute("data-value") or 0)

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
    # The dashboard's chart follows, on the same notification, without a reload.
    await expect(bar).to_have_attribute("data-value", str(orders_before + 1), timeout=LIVE_WAIT_MS)
    await expect(board.locator("#low-stock")).to_contain_text("Contended live lamp")
    await board.context.close()
    # (Filtered by product: Redis pub/sub is shared by every database number, so a
    # concurrent run's notifications for the same user id can reach this stream too.)
    toast = page.locator(".toast[data-kind=low_stock]", has_text="Contended live lamp")
    await expect(toast).to_be_visible(timeout=LIVE_WAIT_MS)
    await expect(page.get_by_role("button", name=re.compile("^Notifications.*unread"))).to_be_visible()
    await toast.get_by_role("button", name=re.compile("^Dismiss")).click()
    await expect(toast).to_have_count(0)
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

    # A partial refund, then one for more than is left: the API's 409 is shown.
    await page.get_by_label("Amount").fill("5.00")
    await page.get_by_label("Reason").fill("Dented in transit")
    await page.get_by_role("button", name="Refund", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text="Refunded 5.00")).to_be_visible()
    await expect(page.locator("#order-refunded")).to_have_text("5.00")
    await page.get_by_label("Amount").fill("100.00")
    await page.get_by_role("button", name="Refund", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("The refund was refused")
    assert (await api.client.get(f"/api/v1/orders/{order['id']}", headers=headers)).json()["refunded_total"] == "5.00"


async def test_replay_a_dead_job_and_read_the_ai_status(console: Console) -> None:
    state = console.api.state
    async with state.db.session_scope() as session:
        job = state.jobs.queue.enqueue(session, "no.such.job", {"x": 1}, max_attempts=2)
    # The first attempt failed at once; let the second run now, and fail: the job is dead.
    async with state.db.session_scope() as session:
        await session.execute(update(Job).where(Job.id == job.id).values(available_at=datetime.now(UTC)))
    await state.jobs.runner.run(job.id)

    page = await console.page()
    await _signed_in(console, page)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    await expect(page.get_by_role("heading", name="Jobs", level=1)).to_be_visible()
    card = page.locator(f'[data-job-id="{job.id}"]')
    await expect(card).to_contain_text("no.such.job")
    await expect(card).to_contain_text("no handler")
    await expect(card).to_contain_text("2 of 2 attempts")
    assert await console.axe(page) == []
    await console.screenshot(page, "jobs")

    await card.get_by_role("button", name=f"Replay job {job.id} (no.such.job)").click()
    await expect(page.get_by_role("status").filter(has_text=f"Job #{job.id} (no.such.job) replayed")).to_be_visible()
    # Replayed at once and failed its new first attempt: pending again, no longer dead.
    await expect(card).to_have_count(0)

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="AI status").click()
    await expect(page.get_by_role("heading", name="AI status", level=1)).to_be_visible()
    await expect(page.locator('tr[data-provider="local"]')).to_contain_text("offline generator")
    assert await console.axe(page) == []
    await console.screenshot(page, "ai-status")


async def test_change_a_users_role_and_deactivate_them(console: Console) -> None:
    api = console.api
    customer = await api.register()
    headers = bearer((await api.login(customer["email"]))["access_token"])
    page = await console.page()
    me = await _signed_in(console, page)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    await expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    # Your own row offers no way to lock yourself out.
    await expect(page.locator(f"tr:has-text('{me}') select")).to_be_disabled()

    await page.get_by_label(f"Role of {customer['email']}").select_option("admin")
    await expect(page.get_by_role("status").filter(has_text="now an administrator")).to_be_visible()
    assert (await api.client.get("/api/v1/users/me", headers=headers)).json()["role"] == "admin"

    await page.get_by_role("button", name=f"Deactivate {customer['email']}").click()
    await expect(page.get_by_role("status").filter(has_text="deactivated")).to_be_visible()
    await expect(page.locator(f'tr[data-user-id="{customer["id"]}"] [data-active]')).to_have_text("Deactivated")
    assert (await api.client.get("/api/v1/users/me", headers=headers)).status_code == 401
    assert await console.axe(page) == []
    await console.screenshot(page, "users")


async def test_new_pages_fit_375_px_pass_axe_and_take_the_keyboard(console: Console) -> None:
    api = console.api
    category = await api.category("Contention narrow")
    mug = await api.product(category["slug"], "Contended narrow mug", price="4.00", stock=50)
    placed = (await api.order(await api.customer(), (mug["id"], 1))).json()
    page = await console.page(NARROW)
    await _signed_in(console, page)
    pages: list[tuple[str, str | re.Pattern[str]]] = [
        ("/products/new", "New product"),
        (f"/products/{mug['id']}", re.compile("^Edit")),
        ("/orders", "Orders"),
        (f"/orders/{placed['id']}", f"Order #{placed['id']}"),
        ("/users", "Users"),
        ("/jobs", "Jobs"),
        ("/ai", "AI status"),
    ]
    for path, heading in pages:
        await _open(console, page, path, heading)
        await expect(page.locator("main [role=status]:has-text('Loading')")).to_have_count(0)
        await _no_horizontal_scroll(page)
        assert await console.axe(page) == [], path

    # The product form in tab order, from the title to its submit button.
    await _open(console, page, "/products/new", "New product")
    await page.get_by_label("Title").focus()
    order: list[str] = []
    for _ in range(10):
        await page.keyboard.press("Tab")
        focused = "() => document.activeElement.id || document.activeElement.textContent.trim()"
        order.append(await page.evaluate(focused))
        if order[-1] == "Create product":
            break
    assert order == [
        "product-slug",
        "product-category",
        "product-price",
        "product-stock",
        "product-low_stock_threshold",
        "product-description",
        "product-seo_keywords",
        "Create product",
    ], order

    # The notifications panel opens and closes from the keyboard, and fits too.
    bell = page.get_by_role("button", name=re.compile("^Notifications"))
    await bell.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("region", name="Notifications")).to_be_focused()
    await _no_horizontal_scroll(page)
    assert await console.axe(page) == []
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("region", name="Notifications")).to_have_count(0)
