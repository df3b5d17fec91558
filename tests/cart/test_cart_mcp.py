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


async def test_an_agent_checks_out_with_the_callers_permissions(store: Store, connect: Connect) -> None:
    from tests.checkout.helpers import ADDRESS
    from tests.shipping.factories import rate, zone

    mug = await store.product("Checkout tool mug", price="19.99")
    # Committed data (the app is served): a country no other test uses, a zone the clean-up knows.
    shipping = await zone(store.api, ["IS"], rate("Post", "3.00"), name="Contention checkout tool")
    _, token = await store.customer()
    headers = bearer(token)
    api = store.api.client
    assert (
        await api.put("/api/v1/cart/shipping-address", json={**ADDRESS, "country": "IS"}, headers=headers)
    ).status_code == 200
    assert (
        await api.put("/api/v1/cart/shipping-option", json={"id": shipping["rates"][0]["id"]}, headers=headers)
    ).status_code == 200
    async with connect(token) as client:
        empty = error(await client.call_tool("checkout", {}), "CONFLICT")
        assert [item["field"] for item in empty["details"]] == ["items"]
        data(await client.call_tool("set_cart_item", {"product_id": mug["id"], "quantity": 2}))
        first = data(await client.call_tool("checkout", {"idempotency_key": "agent-checkout-1"}))
        again = data(await client.call_tool("checkout", {"idempotency_key": "agent-checkout-1"}))
    assert again == first
    order, payment = first["order"], first["payment"]
    assert (order["status"], order["total"], order["shipping_total"]) == ("pending_payment", "42.98", "3.00")
    assert (payment["provider"], payment["status"], payment["amount"]) == ("manual", "pending", "42.98")
    # The order is the caller's, seen the same way over HTTP; the cart is empty.
    seen = (await api.get(f"/api/v1/orders/{order['id']}", headers=headers)).json()
    assert seen["id"] == order["id"]
    assert (await api.get("/api/v1/cart", headers=headers)).json()["items"] == []
