"""Payment fixtures: the local Stripe server, and the shop configured to use it (inside the
test's transaction, or live on the real engine for concurrency)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storefront.app import create_app
from storefront.config import Settings
from storefront.core.jobs import Job
from storefront.payments.models import PaymentEvent
from tests.checkout.helpers import open_shop
from tests.conftest import AppFactory, make_settings
from tests.helpers import Api, clean_committed
from tests.payments.stripe_server import WEBHOOK_SECRET, FakeStripe, fake_stripe


def _stripe_settings(url: str) -> dict[str, Any]:
    return {
        "payment_provider": "stripe",
        "stripe_api_key": SecretStr("sk_test_storefront"),
        "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
        "stripe_api_base": url,
        "stripe_timeout_seconds": 5,
    }


@pytest.fixture
async def stripe_server() -> AsyncIterator[tuple[FakeStripe, str]]:
    async with fake_stripe() as running:
        yield running


@pytest.fixture
async def stripe_api(make_api: AppFactory, stripe_server: tuple[FakeStripe, str]) -> Api:
    """The app with PAYMENT_PROVIDER=stripe and the SDK pointed at the local server."""
    _, url = stripe_server
    # model_copy does not validate: secrets go in as the settings hold them.
    return await make_api(**_stripe_settings(url))


@pytest.fixture
async def live_stripe(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, stripe_server: tuple[FakeStripe, str]
) -> AsyncIterator[Api]:
    """Like ``live`` (each request commits on its own connection), with Stripe configured;
    what the test committed is deleted afterwards, its payment events included."""
    async with engine.connect() as connection:
        last_job = await connection.scalar(select(Job.id).order_by(Job.id.desc()).limit(1)) or 0
        last_event = await connection.scalar(select(PaymentEvent.id).order_by(PaymentEvent.id.desc()).limit(1)) or 0
    _, url = stripe_server
    app = create_app(make_settings(tmp_path, database_url=settings.resolved_database_url, **_stripe_settings(url)))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=60) as client,
    ):
        if app.state.storefront.redis is not None:
            await app.state.storefront.redis.flushdb()
        try:
            yield Api(client, app)
        finally:
            async with engine.begin() as connection:
                await connection.execute(delete(PaymentEvent).where(PaymentEvent.id > last_event))
            await clean_committed(engine, last_job)  # orders go, and their payments and refunds with them


@pytest.fixture
async def shop(api: Api) -> dict[str, Any]:
    return await open_shop(api)


@pytest.fixture
async def stripe_shop(stripe_api: Api) -> dict[str, Any]:
    return await open_shop(stripe_api)
