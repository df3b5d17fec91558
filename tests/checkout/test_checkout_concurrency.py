"""Checkouts under real concurrency: each request on its own pooled connection, with
committed data (cleaned up afterwards)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from tests.checkout.helpers import ADDRESS, CHECKOUT, fill_cart, open_shop
from tests.helpers import Api

COUNTRY = "NZ"  # a country no other test's zone uses: this test's data is committed


async def test_fifty_checkouts_for_ten_items_make_ten_orders(live: Api) -> None:
    shop = await open_shop(
        live,
        COUNTRY,
        vat=None,
        category="Contention checkout",
        mug="Contended mug",
        pot="Contended pot",
        zone="Contention zone",
    )
    mug = shop["mug"]
    buyers = [await live.customer() for _ in range(50)]
    for buyer in buyers:
        await fill_cart(live, buyer, shop["standard"], (mug["id"], 1), address={**ADDRESS, "country": COUNTRY})

    responses = await asyncio.gather(*(live.client.post(CHECKOUT, headers=buyer) for buyer in buyers))
    codes = Counter(
        str(response.status_code) if response.status_code < 400 else response.json()["error"]["code"]
        for response in responses
    )
    assert codes == {"201": 10, "OUT_OF_STOCK": 40}
    product: dict[str, Any] = (await live.client.get(f"/api/v1/products/{mug['id']}")).json()
    assert product["stock"] == 0
    orders = [response.json()["order"] for response in responses if response.status_code == 201]
    assert all(order["status"] == "pending_payment" for order in orders)
    assert len({order["id"] for order in orders}) == 10
