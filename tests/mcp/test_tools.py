"""The tools over both transports, driven by the official MCP client: what an agent
does is what the user could do through the API, and never more."""

from __future__ import annotations

import uuid

import pytest
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from tests.helpers import bearer
from tests.mcp.conftest import Connect, Store, data, error, http_client, stdio_client

CONTRACT_TOOLS = {
    "get_cart",
    "set_cart_item",
    "checkout",
    "search_products",
    "get_product",
    "list_categories",
    "list_todos",
    "create_todo",
    "update_todo",
    "place_order",
    "get_order",
    "list_orders",
    "get_dashboard",
}


async def customer(store: Store) -> tuple[int, str]:
    user, token = await store.customer()
    return int(user["id"]), token


async def test_tools_are_listed_with_schemas(store: Store, connect: Connect) -> None:
    _, token = await customer(store)
    async with connect(token) as client:
        # The SDK's client negotiates the newest protocol (the per-request envelope).
        assert client.protocol_version in MODERN_PROTOCOL_VERSIONS
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) >= CONTRACT_TOOLS
    assert {"complete_todo", "delete_todo", "cancel_order", "update_order_status", "set_product_stock"} <= set(tools)
    for tool in tools.values():
        assert tool.description, tool.name
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema is not None, tool.name
    create = tools["create_todo"].input_schema
    assert create["required"] == ["title"]
    assert create["properties"]["priority"]["minimum"] == 1
    assert create["properties"]["priority"]["maximum"] == 5
    search = tools["search_products"].input_schema
    assert search["required"] == ["query"]
    assert "description" in search["properties"]["query"]
    search_output = tools["search_products"].output_schema
    assert search_output is not None
    assert set(search_output["properties"]) == {"items", "next_cursor"}
    order_items = tools["place_order"].input_schema["properties"]["items"]
    assert order_items["type"] == "array"
    assert tools["get_product"].annotations is not None
    assert tools["get_product"].annotations.read_only_hint is True


async def test_search_finds_products(store: Store, connect: Connect) -> None:
    word = f"zq{uuid.uuid4().hex[:8]}"
    wanted = await store.product(f"{word} enamel mug", price="19.90")
    await store.product("Plain teapot")
    _, token = await customer(store)
    async with connect(token) as client:
        found = data(await client.call_tool("search_products", {"query": word}))
        by_slug = data(await client.call_tool("get_product", {"slug": wanted["slug"]}))
    assert [item["id"] for item in found["items"]] == [wanted["id"]]
    assert found["items"][0]["price"] == "19.90"
    assert by_slug["id"] == wanted["id"]


async def test_todo_created_and_completed_through_tools_is_seen_through_the_api(store: Store, connect: Connect) -> None:
    _, token = await customer(store)
    async with connect(token) as client:
        created = data(
            await client.call_tool(
                "create_todo", {"title": "  Ring the supplier ", "priority": 4, "due_date": "2030-01-31"}
            )
        )
        completed = data(await client.call_tool("complete_todo", {"todo_id": created["id"]}))
        renamed = data(
            await client.call_tool("update_todo", {"todo_id": created["id"], "changes": {"title": "Supplier rung"}})
        )
        listed = data(await client.call_tool("list_todos", {"completed": True}))
    assert created["title"] == "Ring the supplier"
    assert completed["completed"] is True
    assert completed["completed_at"] is not None
    assert renamed["completed"] is True  # a partial update leaves the rest alone
    assert [todo["id"] for todo in listed["items"]] == [created["id"]]

    seen = await store.api.client.get(f"/api/v1/todos/{created['id']}", headers=bearer(token))
    assert seen.status_code == 200
    assert seen.json()["title"] == "Supplier rung"
    assert seen.json()["completed"] is True
    assert seen.json()["due_date"] == "2030-01-31"


async def test_an_order_placed_through_a_tool_takes_stock(store: Store, connect: Connect) -> None:
    product = await store.product("Stocked kettle", stock=5, price="30.00")
    _, token = await customer(store)
    async with connect(token) as client:
        order = data(await client.call_tool("place_order", {"items": [{"product_id": product["id"], "quantity": 2}]}))
        too_many = await client.call_tool("place_order", {"items": [{"product_id": product["id"], "quantity": 4}]})
        fetched = data(await client.call_tool("get_order", {"order_id": order["id"]}))
        listed = data(await client.call_tool("list_orders", {}))
        dashboard = data(await client.call_tool("get_dashboard", {}))
    assert order["status"] == "placed"
    assert order["total"] == "60.00"
    assert order["items"][0]["quantity"] == 2
    details = error(too_many, "OUT_OF_STOCK")["details"]
    assert details == [{"product_id": product["id"], "requested": 4, "available": 3}]
    assert fetched == order
    assert [item["id"] for item in listed["items"]] == [order["id"]]
    assert dashboard["stats"] == {"order_count": 1, "total_spent": "60.00"}

    stock = (await store.api.client.get(f"/api/v1/products/{product['id']}")).json()["stock"]
    assert stock == 3
    api_view = await store.api.client.get(f"/api/v1/orders/{order['id']}", headers=bearer(token))
    assert api_view.json()["total"] == "60.00"


async def test_one_users_tools_cannot_see_or_touch_anothers_todo_or_order(store: Store, connect: Connect) -> None:
    product = await store.product("Private purchase")
    owner_id, owner_token = await customer(store)
    todo = await store.api.client.post("/api/v1/todos", json={"title": "Mine"}, headers=bearer(owner_token))
    order = await store.api.order(bearer(owner_token), (product["id"], 1))
    todo_id, order_id = todo.json()["id"], order.json()["id"]

    _, other_token = await customer(store)
    async with connect(other_token) as client:
        error(await client.call_tool("get_todo", {"todo_id": todo_id}), "NOT_FOUND")
        error(await client.call_tool("update_todo", {"todo_id": todo_id, "changes": {"title": "Yours"}}), "NOT_FOUND")
        error(await client.call_tool("complete_todo", {"todo_id": todo_id}), "NOT_FOUND")
        error(await client.call_tool("delete_todo", {"todo_id": todo_id}), "NOT_FOUND")
        error(await client.call_tool("get_order", {"order_id": order_id}), "NOT_FOUND")
        error(await client.call_tool("cancel_order", {"order_id": order_id}), "NOT_FOUND")
        # A customer's user_id filter is ignored, as in the API: still only their own.
        assert data(await client.call_tool("list_orders", {"user_id": owner_id}))["items"] == []
        assert data(await client.call_tool("list_todos", {}))["items"] == []

    mine = (await store.api.client.get(f"/api/v1/todos/{todo_id}", headers=bearer(owner_token))).json()
    assert mine["title"] == "Mine"
    assert mine["completed"] is False
    placed = (await store.api.client.get(f"/api/v1/orders/{order_id}", headers=bearer(owner_token))).json()
    assert placed["status"] == "placed"


async def test_a_customer_is_refused_admin_tools_and_an_admin_is_not(store: Store, connect: Connect) -> None:
    product = await store.product("Guarded stock", stock=5)
    _, token = await customer(store)
    order = (await store.api.order(bearer(token), (product["id"], 1))).json()
    async with connect(token) as client:
        error(await client.call_tool("set_product_stock", {"product_id": product["id"], "stock": 999}), "FORBIDDEN")
        error(
            await client.call_tool("update_order_status", {"order_id": order["id"], "status": "shipped"}), "FORBIDDEN"
        )
    assert (await store.api.client.get(f"/api/v1/products/{product['id']}")).json()["stock"] == 4

    async with connect(await store.admin_token()) as admin:
        shipped = data(await admin.call_tool("update_order_status", {"order_id": order["id"], "status": "shipped"}))
        restocked = data(await admin.call_tool("set_product_stock", {"product_id": product["id"], "stock": 40}))
        backwards = await admin.call_tool("update_order_status", {"order_id": order["id"], "status": "placed"})
    assert shipped["status"] == "shipped"
    assert restocked["stock"] == 40
    error(backwards, "INVALID_TRANSITION")


@pytest.mark.parametrize("transport", ["http", "stdio"])
async def test_clients_of_the_handshake_era_work_too(store: Store, transport: str) -> None:
    """Most deployed clients still open with `initialize` (protocol 2025-11-25 and
    earlier) rather than the 2026 per-request envelope the SDK's client prefers."""
    _, token = await customer(store)
    opened = (
        http_client(store.url, token, mode="legacy")
        if transport == "http"
        else stdio_client(store.settings, token, mode="legacy")
    )
    async with opened as client:
        assert client.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS
        assert client.server_info is not None
        assert client.server_info.name == "storefront"
        assert client.instructions
        created = data(await client.call_tool("create_todo", {"title": "Handshake era"}))
        error(await client.call_tool("get_todo", {"todo_id": created["id"] + 1_000_000}), "NOT_FOUND")
