"""The cart tools over both MCP transports: the caller's own cart, as the API shows it."""

from __future__ import annotations

from tests.helpers import bearer
from tests.mcp.conftest import Connect, Store, data, error


async def test_an_agent_fills_the_callers_cart(store: Store, connect: Connect) -> None:
    mug = await store.product("Cart tool mug", price="19.99")
    pot = await store.product("Cart tool pot", price="5.00")
    _, token = await store.customer()
    async with connect(token) as client:
        empty = data(await client.call_tool("get_cart", {}))
        assert (empty["items"], empty["total"], empty["currency"]) == ([], "0.00", "USD")
        data(await client.call_tool("set_cart_item", {"product_id": mug["id"], "quantity": 3}))
        filled = data(await client.call_tool("set_cart_item", {"product_id": pot["id"], "quantity": 1}))
        removed = data(await client.call_tool("set_cart_item", {"product_id": pot["id"], "quantity": 0}))
    assert filled["id"] == empty["id"]
    assert [(item["product_id"], item["quantity"], item["line_total"]) for item in filled["items"]] == [
        (mug["id"], 3, "59.97"),
        (pot["id"], 1, "5.00"),
    ]
    assert filled["subtotal"] == filled["total"] == "64.97"
    assert [item["product_id"] for item in removed["items"]] == [mug["id"]]
    # The same cart through the HTTP API.
    seen = (await store.api.client.get("/api/v1/cart", headers=bearer(token))).json()
    assert (seen["id"], seen["items"], seen["total"]) == (removed["id"], removed["items"], "59.97")


async def test_cart_tools_refuse_what_the_api_refuses(store: Store, connect: Connect) -> None:
    mug = await store.product("Cart tool refusals", price="2.00")
    _, alice = await store.customer()
    _, bob = await store.customer()
    async with connect(alice) as client:
        data(await client.call_tool("set_cart_item", {"product_id": mug["id"], "quantity": 2}))
        missing = error(await client.call_tool("set_cart_item", {"product_id": 999999, "quantity": 1}), "NOT_FOUND")
        assert missing["details"] == [{"product_id": 999999}]
        too_many = await client.call_tool("set_cart_item", {"product_id": mug["id"], "quantity": 101})
        assert error(too_many, "VALIDATION_ERROR")["details"][0]["field"] == "quantity"
        assert data(await client.call_tool("get_cart", {}))["items"][0]["quantity"] == 2
    async with connect(bob) as client:
        # Bob's cart is his own: Alice's line is not in it, and his change does not reach hers.
        assert data(await client.call_tool("get_cart", {}))["items"] == []
        data(await client.call_tool("set_cart_item", {"product_id": mug["id"], "quantity": 0}))
    alices = (await store.api.client.get("/api/v1/cart", headers=bearer(alice))).json()
    assert [(item["product_id"], item["quantity"]) for item in alices["items"]] == [(mug["id"], 2)]
