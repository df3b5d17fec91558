"""Payment fixtures: the local Stripe server, and the shop configured to use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from tests.checkout.helpers import open_shop
from tests.conftest import AppFactory
from tests.helpers import Api
from tests.payments.stripe_server import WEBHOOK_SECRET, FakeStripe, fake_stripe


@pytest.fixture
async def stripe_server() -> AsyncIterator[tuple[FakeStripe, str]]:
    async with fake_stripe() as running:
        yield running


@pytest.fixture
async def stripe_api(make_api: AppFactory, stripe_server: tuple[FakeStripe, str]) -> Api:
    """The app with PAYMENT_PROVIDER=stripe and the SDK pointed at the local server."""
    _, url = stripe_server
    return await make_api(
        payment_provider="stripe",
        # model_copy does not validate: secrets go in as the settings hold them.
        stripe_api_key=SecretStr("sk_test_storefront"),
        stripe_webhook_secret=SecretStr(WEBHOOK_SECRET),
        stripe_api_base=url,
        stripe_timeout_seconds=5,
    )


@pytest.fixture
async def shop(api: Api) -> dict[str, Any]:
    return await open_shop(api)


@pytest.fixture
async def stripe_shop(stripe_api: Api) -> dict[str, Any]:
    return await open_shop(stripe_api)
