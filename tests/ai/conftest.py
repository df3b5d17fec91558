"""Fixtures of AI tests: fake providers on loopback and apps configured to use them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.ai.fake_provider import FakeProvider, running
from tests.conftest import AppFactory
from tests.helpers import Api

# Short back-offs so retries show within a test's time, but generous timeouts: a loaded CI
# machine once took over 1 s to relay a fake provider's instant 500, which a 1 s timeout
# counted as a timeout. Tests about timeouts and budgets set their own small values.
FAST: dict[str, Any] = {
    "ai_timeout_seconds": 10.0,
    "ai_request_budget_seconds": 20.0,
    "ai_max_attempts": 2,
    "ai_backoff_base_seconds": 0.01,
}


@pytest.fixture
async def first() -> AsyncIterator[FakeProvider]:
    async with running(FakeProvider()) as provider:
        yield provider


@pytest.fixture
async def second() -> AsyncIterator[FakeProvider]:
    async with running(FakeProvider()) as provider:
        yield provider


async def ai_api(make_api: AppFactory, *providers: FakeProvider, **overrides: Any) -> Api:
    """An app whose chain is these fake providers, in order, then `local`."""
    settings: dict[str, Any] = {**FAST, "ai_models": [provider.entry() for provider in providers]}
    settings.update(overrides)
    return await make_api(**settings)


async def new_product(api: Api, **fields: Any) -> dict[str, Any]:
    category = await api.category()
    return await api.product(category["slug"], **fields)


async def generate(api: Api, product_id: int, **body: Any) -> Any:
    return await api.client.post(
        f"/api/v1/products/{product_id}/generate", json=body, headers=await api.admin_headers()
    )
