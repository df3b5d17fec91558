"""Fixtures of the admin console's browser tests: Debian's Chromium driven by Playwright
(never a downloaded browser), the built console, and the app on a real loopback port
with committed data (the ``live`` fixture), cleaned afterwards."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, ViewportSize, async_playwright

from storefront.identity.service import bootstrap_admin
from tests.helpers import PASSWORD, Api, serve, unique_email

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ROOT / "admin"
CHROMIUM = Path(os.environ.get("STOREFRONT_TEST_CHROMIUM", "/usr/bin/chromium"))
# Screenshots for docs/admin/ are refreshed on request (STOREFRONT_SCREENSHOT_DIR=docs/admin);
# otherwise they go to a temporary folder, so a test run leaves the tree clean.
SCREENSHOTS = Path(os.environ.get("STOREFRONT_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="storefront-shots-"))
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
UNDER_CI = os.environ.get("CI") == "true"


def _missing(reason: str) -> None:
    """Under CI a missing piece is a failure; on a developer's machine, a skip that says why."""
    if UNDER_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def _install_chromium() -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return

    def apt_get(*args: str) -> int:
        command = ["apt-get", *args]
        return subprocess.run(command, capture_output=True, timeout=900, check=False).returncode  # noqa: S603

    if apt_get("install", "-y", "-q", "chromium") != 0:
        apt_get("update", "-q")
        apt_get("install", "-y", "-q", "chromium")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed with apt-get when the tests run as root."""
    if not CHROMIUM.exists():
        _install_chromium()
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    return CHROMIUM


@pytest.fixture(scope="session")
def console_built() -> Path:
    """The console's build, made by the same step as ``./dev serve`` when missing or stale."""
    if shutil.which("npm") is not None:
        result = subprocess.run(  # noqa: S603 - our own script
            ["/bin/sh", str(ROOT / "dev"), "admin"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
        )
        if result.returncode != 0:
            pytest.fail(f"building the admin console failed:\n{result.stdout}\n{result.stderr}")
    if not (ADMIN / "dist" / "index.html").is_file():
        _missing("the admin console is not built and npm is not installed (Node.js 20.19+)")
    return ADMIN / "dist"


@pytest.fixture(scope="session")
def axe_source() -> str:
    path = ADMIN / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        _missing("axe-core is not installed: ./dev admin (npm ci)")
    return path.read_text()


@pytest.fixture(scope="session")
async def browser(chromium: Path, console_built: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Console:
    """The app on a real port, its API client, and helpers for the pages."""

    base: str
    api: Api
    browser: Browser
    axe_source: str
    problems: list[str] = field(default_factory=list)
    # API refusals a test provokes on purpose (a 422, a 412, a 409): Chromium logs each
    # failed request as a console error, which would otherwise fail the test.
    expected_statuses: set[int] = field(default_factory=set)

    def expect_refusals(self, *statuses: int) -> None:
        self.expected_statuses.update(statuses)

    def _expected(self, text: str) -> bool:
        refused = re.search(r"status of (\d{3})", text)
        return refused is not None and int(refused.group(1)) in self.expected_statuses

    def url(self, path: str = "/admin/") -> str:
        return self.base + path

    async def admin(self) -> str:
        """A new administrator's email (password: PASSWORD), committed like any user."""
        email = unique_email("admin")
        async with self.api.state.db.session_scope() as session:
            await bootstrap_admin(session, self.api.state.hasher, email, PASSWORD, "Admin")
        return email

    async def page(self, viewport: ViewportSize | None = None) -> Page:
        context = await self.browser.new_context(viewport=viewport or DESKTOP, accept_downloads=True)
        page = await context.new_page()
        # Script errors, and anything the Content-Security-Policy refused, fail the test.
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text or (
                message.type == "error" and "401" not in message.text and not self._expected(message.text)
            ):
                self.problems.append(f"console {message.type}: {message.text}")

        page.on("console", on_console)
        return page

    async def sign_in(self, page: Page, email: str, password: str = PASSWORD) -> None:
        await page.goto(self.url())
        await page.get_by_label("Email").fill(email)
        await page.get_by_label("Password").fill(password)
        await page.get_by_role("button", name="Sign in").click()

    async def axe(self, page: Page) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the page as it is."""
        if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
            await page.evaluate(self.axe_source)
        results: dict[str, Any] = await page.evaluate(
            "() => axe.run(document, {resultTypes: ['violations']}).then(r => ({violations: r.violations}))"
        )
        return [
            {"id": item["id"], "impact": item["impact"], "nodes": [node["target"] for node in item["nodes"]]}
            for item in results["violations"]
            if item["impact"] in {"serious", "critical"}
        ]

    async def screenshot(self, page: Page, name: str) -> None:
        await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=False)


@pytest.fixture
async def console(live: Api, browser: Browser, axe_source: str) -> AsyncIterator[Console]:
    async with serve(live.app) as base:
        console = Console(base, live, browser, axe_source)
        try:
            yield console
        finally:
            for context in browser.contexts:
                await context.close()
        assert not console.problems, console.problems
