"""Cart fixtures: a small shop (products, a zone for DE and AT, German VAT) and its customers.

The MCP fixtures (the app on a loopback port, clients over HTTP and stdio) come from
the MCP tests, so the cart's tools are exercised exactly as the other tools are.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api
from tests.mcp.conftest import connect, store  # noqa: F401 - fixtures for test_cart_mcp
from tests.shipping.factories import rate, tax, zone


@pytest.fixture
async def shop(api: Api) -> dict[str, Any]:
    category = await api.category()
    mug = await api.product(category["slug"], "Cart Mug", price="19.99", stock=10)
    pot = await api.product(category["slug"], "Cart Pot", price="5.00", stock=3)
    europe = await zone(
        api, ["DE", "AT"], rate("Standard", "4.90", "100.00", 2, 5), rate("Express", "9.90", None, 1, 1), name="EU"
    )
    await tax(api, "DE", "0.19")
    await tax(api, "AT", "0.20")
    return {"category": category, "mug": mug, "pot": pot, "zone": europe}
