"""The admin console in real headless Chromium, against the app on a loopback port:
sign-in, the administrators-only page, sign-out and refresh rotation, the dashboard's
figures following orders placed through the API, CSV exports, products, keyboard use,
375 px, axe-core, and the dashboard's first render time."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.async_api import Page, Route, ViewportSize, expect

from tests.console.conftest import Console
from tests.helpers import PASSWORD, contended

NARROW: ViewportSize = {"width": 375, "height": 800}
FIRST_RENDER_BUDGET_MS = 2000  # the target is 1 s on a 100k-product shop; this guards regressions


async def _status_count(page: Page, status: str) -> int:
    text = await page.locator(f'[data-status="{status}"] dd').inner_text()
    return int(text.replace(",", ""))


async def _bar(page: Page, chart: str, day: str) -> float:
    value = await page.locator(f'#{chart} rect[data-date="{day}"]').get_attribute("data-value")
    assert value is not None
    return float(value)


async def _no_horizontal_scroll(page: Page) -> None:
    overflow = await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at {page.viewport_size}"


async def _refresh_token(page: Page) -> str | None:
    token: str | None = await page.evaluate("() => sessionStorage.getItem('storefront.admin.refresh')")
    return token


async def test_dashboard_shows_real_figures_that_follow_orders(console: Console) -> None:
    api = console.api
    page = await console.page()
    await console.sign_in(page, await console.admin())
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    await expect(page.locator("#statuses")).to_be_visible()
    today = datetime.now(UTC).date().isoformat()
    placed_before = await _status_count(page, "placed")
    orders_before = await _bar(page, "orders-chart", today)
    revenue_before = await _bar(page, "revenue-chart", today)

    # Three orders through the public API, as a shop's customers would place them.
    mug, lamp = await contended(api, 50, 4)
    customer = await api.customer()
    for items in ([(mug["id"], 2)], [(mug["id"], 1), (lamp["id"], 1)], [(lamp["id"], 2)]):
        assert (await api.order(customer, *items)).status_code == 201

    await page.reload()
    await expect(page.locator('[data-status="placed"] dd')).to_have_text(str(placed_before + 3))
    assert await _bar(page, "orders-chart", today) == orders_before + 3
    assert await _bar(page, "revenue-chart", today) == pytest.approx(revenue_before + 12.00)
    top = page.locator("#top-units table")
    await expect(top).to_contain_text(mug["title"])
    # The lamp is down to 1 of its threshold of 5: listed as low stock.
    await expect(page.locator("#low-stock")).to_contain_text(lamp["title"])
    assert await console.axe(page) == []
    await console.screenshot(page, "dashboard")

    # A chosen range: one day, today.
    await page.get_by_label("From", exact=True).fill(today)
    await page.get_by_label("To", exact=True).fill(today)
    await page.get_by_role("button", name="Show").click()
    await expect(page.locator("#orders-chart rect.bar")).to_have_count(1)
    assert f"from={today}" in page.url

    # The orders report streams with the bearer token and lands as a file.
    async with page.expect_download() as info:
        await page.get_by_role("button", name=re.compile("^Orders CSV")).click()
    download = await info.value
    assert download.suggested_filename == f"orders-{today}-{today}.csv"
    rows = list(csv.reader(io.StringIO((await download.path()).read_text(encoding="utf-8"))))
    assert rows[0] == [
        "order_id",
        "created_at",
        "status",
        "user_email",
        "product_id",
        "title",
        "unit_price",
        "quantity",
        "line_total",
        "order_total",
    ]
    assert sum(1 for row in rows[1:] if row[5] in {mug["title"], lamp["title"]}) == 4
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Products CSV").click()
    products = (await info.value).suggested_filename
    assert products.startswith("products-")
    assert products.endswith(".csv")
    await expect(page.get_by_role("status").filter(has_text="Downloaded")).to_be_visible()


async def test_dashboard_first_render_time(console: Console) -> None:
    """A reload of a signed-in dashboard: restore the session (refresh), who am I, the
    analytics, the figures drawn. Measured by the page's own performance marks."""
    page = await console.page()
    await console.sign_in(page, await console.admin())
    await expect(page.locator("#statuses")).to_be_visible()
    await page.reload()
    await expect(page.locator("#statuses")).to_be_visible()
    marks: dict[str, float] = await page.evaluate(
        """() => new Promise((resolve) => {
            const read = () => {
                const rendered = performance.getEntriesByName('storefront:dashboard-rendered')[0];
                if (!rendered) return requestAnimationFrame(read);
                const measure = performance.getEntriesByName('storefront:dashboard-first-render')[0];
                resolve({sinceNavigation: rendered.startTime, sinceAppStart: measure.duration});
            };
            read();
        })"""
    )
    print(  # the figure the issue asks to report
        f"\ndashboard first render: {marks['sinceNavigation']:.0f} ms after navigation start "
        f"({marks['sinceAppStart']:.0f} ms after the app's script started)"
    )
    assert marks["sinceNavigation"] < FIRST_RENDER_BUDGET_MS


async def test_customer_gets_the_administrators_only_page(console: Console) -> None:
    user = await console.api.register()
    page = await console.page()
    await page.goto(console.url())
    await expect(page.get_by_role("heading", name="Sign in to Storefront admin")).to_be_visible()
    assert await console.axe(page) == []
    await console.screenshot(page, "sign-in")

    await console.sign_in(page, user["email"], "not the password")
    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")

    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Administrators only")).to_be_visible()
    await expect(page.get_by_text(user["email"])).to_be_visible()
    assert await console.axe(page) == []
    await console.screenshot(page, "administrators-only")

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in to Storefront admin")).to_be_visible()


async def test_sign_out_revokes_and_refresh_rotates(console: Console) -> None:
    api = console.api
    page = await console.page()
    await console.sign_in(page, await console.admin())
    await expect(page.locator("#statuses")).to_be_visible()
    first = await _refresh_token(page)
    assert first

    # The access token is in memory only: a reload restores the session through the
    # refresh token, which is spent and replaced.
    await page.reload()
    await expect(page.locator("#statuses")).to_be_visible()
    second = await _refresh_token(page)
    assert second
    assert second != first
    storage = await page.evaluate("() => JSON.stringify(localStorage)")
    assert storage == "{}"

    # An access token the server no longer takes (as when it expires): one refresh, one retry.
    refreshes: list[str] = []
    page.on("request", lambda request: refreshes.append(request.url) if "/auth/refresh" in request.url else None)
    refused: list[str] = []

    async def expire_once(route: Route) -> None:
        if refused:
            await route.continue_()
            return
        refused.append(route.request.url)
        body = {"error": {"code": "UNAUTHENTICATED", "message": "Token expired", "request_id": "x", "details": None}}
        await route.fulfill(status=401, json=body, headers={"WWW-Authenticate": "Bearer"})

    await page.route(re.compile(r"/api/v1/products\?"), expire_once)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    await expect(page.get_by_role("heading", name="Products", level=1)).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text=re.compile("Showing|No products"))).to_be_visible()
    assert len(refused) == 1
    assert len(refreshes) == 1
    third = await _refresh_token(page)
    assert third not in {first, second, None}

    # A spent refresh token is refused, and signing out revokes the current one.
    spent = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert spent.status_code == 401
    # (presenting a spent token revoked that login family; sign in again to test sign-out)
    await page.reload()
    await expect(page.get_by_role("heading", name="Sign in to Storefront admin")).to_be_visible()
    await console.sign_in(page, await console.admin())
    await expect(page.locator("#statuses")).to_be_visible()
    current = await _refresh_token(page)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in to Storefront admin")).to_be_visible()
    assert await _refresh_token(page) is None
    refused_after = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": current})
    assert refused_after.status_code == 401


async def test_products_search_filter_sort_and_pages(console: Console) -> None:
    api = console.api
    category = await api.category("Contention lamps")
    made: list[dict[str, Any]] = []
    for index in range(27):
        made.append(
            await api.product(
                category["slug"], f"Contended lamp {index:02d} glowbulb", price=f"{100 - index}.00", stock=index
            )
        )
    page = await console.page()
    await console.sign_in(page, await console.admin())
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    await expect(page.get_by_role("heading", name="Products", level=1)).to_be_visible()

    await page.get_by_label("Category").select_option(category["slug"])
    await expect(page.locator("table.products tbody tr")).to_have_count(25)
    await page.get_by_label("Sort").select_option("price")
    first_row = page.locator("table.products tbody tr").first
    await expect(first_row).to_contain_text(made[26]["title"])  # the cheapest
    await page.get_by_role("button", name="Next").click()
    await expect(page.locator("table.products tbody tr")).to_have_count(2)
    await expect(page.locator("table.products tbody tr").last).to_contain_text(made[0]["title"])
    await page.get_by_role("button", name="Previous").click()
    await expect(page.locator("table.products tbody tr")).to_have_count(25)
    assert await console.axe(page) == []
    await console.screenshot(page, "products")

    await page.get_by_label("Search").fill("glowbulb 07")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("table.products tbody tr").first).to_contain_text(made[7]["title"])
    await expect(page.get_by_label("Sort")).to_be_disabled()


async def test_the_pager_waits_for_the_page_of_a_new_sort(console: Console) -> None:
    # The rows on screen answer the old sort until the new page arrives; following their
    # cursor with the new sort would be refused (400). The new page is held back here.
    api = console.api
    category = await api.category("Contention held lamps")  # named for clean_committed
    for index in range(27):
        await api.product(category["slug"], f"Contended held lamp {index:02d}", price=f"{100 - index}.00")
    page = await console.page()
    await console.sign_in(page, await console.admin())
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    await page.get_by_label("Category").select_option(category["slug"])
    await expect(page.locator("table.products tbody tr")).to_have_count(25)
    next_button = page.get_by_role("button", name="Next")
    await expect(next_button).to_be_enabled()

    held: list[Route] = []
    arrived = asyncio.Event()

    async def hold(route: Route) -> None:  # the first request with the new sort only
        if held:
            await route.continue_()
            return
        held.append(route)
        arrived.set()

    await page.route(re.compile(r"/api/v1/products\?.*sort=price"), hold)
    await page.get_by_label("Sort").select_option("price")
    await asyncio.wait_for(arrived.wait(), 10)
    await expect(next_button).to_be_disabled()  # the old sort's rows are still shown
    await held[0].continue_()
    await expect(next_button).to_be_enabled()
    await next_button.click()
    await expect(page.locator("table.products tbody tr")).to_have_count(2)


async def test_keyboard_reaches_the_navigation(console: Console) -> None:
    page = await console.page()
    await console.sign_in(page, await console.admin())
    await expect(page.locator("#statuses")).to_be_visible()
    await page.reload()
    await expect(page.locator("#statuses")).to_be_visible()

    await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    focused: list[str] = []
    for _ in range(6):
        await page.keyboard.press("Tab")
        focused.append(await page.evaluate("() => document.activeElement.textContent.trim()"))
        if focused[-1] == "Products":
            break
    assert focused[-1] == "Products", focused
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Products", level=1)).to_be_visible()
    # The new page takes the focus, as a page load would.
    await expect(page.locator("#main")).to_be_focused()
    await expect(page.locator("[aria-current=page]")).to_have_text("Products")


async def test_every_page_fits_375_px(console: Console) -> None:
    customer = await console.api.register()
    page = await console.page(NARROW)
    await page.goto(console.url())
    await expect(page.get_by_role("heading", name="Sign in to Storefront admin")).to_be_visible()
    await _no_horizontal_scroll(page)
    await console.sign_in(page, await console.admin())
    await expect(page.locator("#statuses")).to_be_visible()
    await _no_horizontal_scroll(page)
    assert await console.axe(page) == []
    await page.get_by_role("link", name="Products").click()
    await expect(page.get_by_role("heading", name="Products", level=1)).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text=re.compile("Showing|No products"))).to_be_visible()
    await _no_horizontal_scroll(page)
    await page.get_by_role("button", name="Sign out").click()
    await console.sign_in(page, customer["email"])
    await expect(page.get_by_role("heading", name="Administrators only")).to_be_visible()
    await _no_horizontal_scroll(page)


async def test_the_console_is_refused_to_frames_and_inline_script(console: Console) -> None:
    """The CSP the browser actually enforces: an injected inline script does not run."""
    page = await console.page()
    await page.goto(console.url())
    await expect(page.get_by_role("heading", name="Sign in to Storefront admin")).to_be_visible()
    ran = await page.evaluate(
        """() => new Promise((resolve) => {
            window.__inline = false;
            document.addEventListener(
                'securitypolicyviolation', (event) => resolve({blocked: event.violatedDirective}));
            const script = document.createElement('script');
            script.textContent = 'window.__inline = true';
            document.body.append(script);
            setTimeout(() => resolve({ran: window.__inline}), 500);
        })"""
    )
    assert ran == {"blocked": "script-src-elem"}, ran
    console.problems.clear()  # the refusal above is reported on the console, on purpose
    headers = (await console.api.client.get("/admin/")).headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
