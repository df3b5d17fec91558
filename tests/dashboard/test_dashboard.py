"""The dashboard: correct sections, gathered concurrently, partial failure tolerated.

Sections run concurrently on their own connections, so these tests use the app
on the real engine (committed data, cleaned up) rather than one shared
transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.dashboard.dependencies import get_dashboard
from storefront.dashboard.service import SECTIONS, Dashboard, Section
from tests.helpers import Api, contended

DELAY = 0.6


def _delayed(section: Section, seconds: float = DELAY) -> Section:
    async def slow(session: AsyncSession, user_id: int) -> Any:
        await asyncio.sleep(seconds)
        return await section(session, user_id)

    return slow


async def _broken(session: AsyncSession, user_id: int) -> Any:
    raise RuntimeError("the notifications store is down")


@pytest.fixture
async def shopper(live: Api) -> AsyncIterator[tuple[Api, dict[str, str]]]:
    (product,) = await contended(live, 20)
    me = await live.customer()
    await live.order(me, (product["id"], 2))
    await live.order(me, (product["id"], 1))
    await live.client.post("/api/v1/todos", json={"title": "open"}, headers=me)
    await live.client.post("/api/v1/todos", json={"title": "done", "completed": True}, headers=me)
    await live.client.post("/api/v1/todos", json={"title": "late", "due_date": "2020-01-01"}, headers=me)
    yield live, me
    live.app.dependency_overrides.clear()


def _use(api: Api, sections: dict[str, Section], timeout: float = 5.0) -> None:
    async def dashboard() -> Dashboard:
        return Dashboard(api.state.db, timeout, sections)

    api.app.dependency_overrides[get_dashboard] = dashboard


async def test_sections(shopper: tuple[Api, dict[str, str]]) -> None:
    api, me = shopper
    body = (await api.client.get("/api/v1/dashboard", headers=me)).json()
    assert set(body) == {"user", "recent_orders", "notifications", "todos", "stats", "errors"}
    assert body["errors"] == {}
    assert body["user"]["email"].endswith("@example.com")
    assert len(body["recent_orders"]) == 2
    assert body["stats"] == {"order_count": 2, "total_spent": "6.00"}
    assert body["todos"] == {"open": 2, "overdue": 1, "completed": 1}
    assert body["notifications"]["unread"] == 2
    assert [item["kind"] for item in body["notifications"]["latest"]] == ["order_placed", "order_placed"]


async def test_a_failing_section_is_null_and_named(shopper: tuple[Api, dict[str, str]]) -> None:
    api, me = shopper
    _use(api, {**SECTIONS, "notifications": _broken})
    response = await api.client.get("/api/v1/dashboard", headers=me)
    assert response.status_code == 200
    body = response.json()
    assert body["notifications"] is None
    assert body["errors"] == {"notifications": "unavailable"}
    assert body["stats"]["order_count"] == 2


async def test_a_slow_section_times_out_alone(shopper: tuple[Api, dict[str, str]]) -> None:
    api, me = shopper
    # A 2 s timeout for every section and one that sleeps 30 s: with 0.2 s, a loaded CI
    # timed out a healthy section too (recent_orders, 2026-12-05).
    _use(api, {**SECTIONS, "todos": _delayed(SECTIONS["todos"], seconds=30)}, timeout=2.0)
    body = (await api.client.get("/api/v1/dashboard", headers=me)).json()
    assert body["todos"] is None
    assert body["errors"] == {"todos": "timeout"}
    assert len(body["recent_orders"]) == 2


async def test_sections_run_concurrently(shopper: tuple[Api, dict[str, str]]) -> None:
    api, me = shopper
    # Counted, not timed (a loaded CI stalls for longer than any margin): two sections that
    # each wait DELAY are both inside their wait at once only if they run concurrently.
    waiting = 0
    most_waiting = 0

    def counted(section: Section) -> Section:
        async def slow(session: AsyncSession, user_id: int) -> Any:
            nonlocal waiting, most_waiting
            waiting += 1
            most_waiting = max(most_waiting, waiting)
            try:
                await asyncio.sleep(DELAY)
            finally:
                waiting -= 1
            return await section(session, user_id)

        return slow

    _use(api, {**SECTIONS, "todos": counted(SECTIONS["todos"]), "stats": counted(SECTIONS["stats"])})
    body = (await api.client.get("/api/v1/dashboard", headers=me)).json()
    assert body["errors"] == {}
    assert body["todos"]["open"] == 2
    assert most_waiting == 2
