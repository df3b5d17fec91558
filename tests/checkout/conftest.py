"""Checkout fixtures: the shop of ``tests/checkout/helpers.py``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.checkout.helpers import open_shop
from tests.helpers import Api


@pytest.fixture
async def shop(api: Api) -> dict[str, Any]:
    return await open_shop(api)
