"""Protocol details over streamable HTTP: argument validation in the API's envelope,
resources, retry-safe orders, request ids, POST only, and the app built twice in one process."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import TextResourceContents

from storefront.app import create_app
from tests.helpers import assert_error, bearer, serve
from tests.mcp.conftest import MCP_HEADERS, Store, data, error, http_client


async def test_invalid_arguments_are_validation_errors_naming_the_field(store: Store) -> None:
    _, token = await store.customer()
    async with http_client(store.url, token) as client:
        priority = error(await client.call_tool("create_todo", {"title": "x", "priority": 9}), "VALIDATION_ERROR")
        smuggled = error(
            await client.call_tool("update_todo", {"todo_id": 1, "changes": {"owner_id": 2}}), "VALIDATION_ERROR"
        )
        both = error(await client.call_tool("get_product", {"product_id": 1, "slug": "mug"}), "VALIDATION_ERROR")
        prices = error(
            await client.call_tool("search_products", {"query": "mug", "min_price": "5", "max_price": "1"}),
            "VALIDATION_ERROR",
        )
        money = error(
            await client.call_tool("search_products", {"query": "mug", "min_price": "1.999"}), "VALIDATION_ERROR"
        )
        listed = data(await client.call_tool("list_todos", {}))
    assert [item["field"] for item in priority["details"]] == ["priority"]
    assert [item["field"] for item in smuggled["details"]] == ["changes.owner_id"]
    assert [item["field"] for item in both["details"]] == ["product_id"]
    assert prices["details"]
    assert [item["field"] for item in money["details"]] == ["min_price"]
    assert listed["items"] == []  # nothing was created by the refused call


async def test_a_failed_call_reads_as_the_envelope_for_a_model_too(store: Store) -> None:
    _, token = await store.customer()
    async with http_client(store.url, token) as client:
        result = await client.call_tool("get_order", {"order_id": 2_000_000_000})
    assert result.is_error
    text = result.content[0]
    assert text.type == "text"
    assert json.loads(text.text) == result.structured_content
    assert json.loads(text.text)["error"]["message"] == "Order 2000000000 not found"


async def test_resources_give_categories_and_a_product_by_slug(store: Store) -> None:
    product = await store.product("Resource lamp")
    _, token = await store.customer()
    async with http_client(store.url, token) as client:
        listed = {resource.uri for resource in (await client.list_resources()).resources}
        templates = {template.uri_template for template in (await client.list_resource_templates()).resource_templates}
        categories = (await client.read_resource("storefront://categories")).contents[0]
        one = (await client.read_resource(f"storefront://products/{product['slug']}")).contents[0]
        with pytest.raises(MCPError):
            await client.read_resource("storefront://products/no-such-product-anywhere")
    assert "storefront://categories" in listed
    assert "storefront://products/{slug}" in templates
    assert isinstance(categories, TextResourceContents)
    assert product["category"]["slug"] in {category["slug"] for category in json.loads(categories.text)}
    assert isinstance(one, TextResourceContents)
    assert json.loads(one.text)["id"] == product["id"]


async def test_an_order_retried_with_its_key_is_placed_once(store: Store) -> None:
    product = await store.product("Retried order", stock=5)
    _, token = await store.customer()
    arguments = {"items": [{"product_id": product["id"], "quantity": 1}], "idempotency_key": uuid.uuid4().hex}
    async with http_client(store.url, token) as client:
        first = data(await client.call_tool("place_order", arguments))
        again = data(await client.call_tool("place_order", arguments))
        changed = await client.call_tool(
            "place_order", {**arguments, "items": [{"product_id": product["id"], "quantity": 2}]}
        )
    assert again["id"] == first["id"]
    error(changed, "IDEMPOTENCY_KEY_REUSED")
    assert (await store.api.client.get(f"/api/v1/products/{product['id']}")).json()["stock"] == 4


async def test_two_apps_in_one_process_each_serve_mcp(store: Store) -> None:
    _, token = await store.customer()
    second = create_app(store.settings)
    async with second.router.lifespan_context(second), serve(second) as url:
        async with http_client(url, token) as client:
            created = data(await client.call_tool("create_todo", {"title": "Via the second app"}))
        async with http_client(store.url, token) as client:
            seen = data(await client.call_tool("get_todo", {"todo_id": created["id"]}))
    assert seen["title"] == "Via the second app"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_only_post_is_served_since_there_are_no_streams_or_sessions(store: Store, method: str) -> None:
    _, token = await store.customer()
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.request(method, f"{store.url}/mcp", headers={**MCP_HEADERS, **bearer(token)})
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"


async def test_a_tool_error_carries_the_request_id_of_its_http_request(store: Store) -> None:
    _, token = await store.customer()
    call = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "get_todo", "arguments": {"todo_id": 9}},
    }
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(f"{store.url}/mcp", json=call, headers={**MCP_HEADERS, **bearer(token)})
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["isError"] is True
    envelope = result["structuredContent"]["error"]
    assert envelope["code"] == "NOT_FOUND"
    assert envelope["request_id"] == response.headers["x-request-id"]


async def test_mcp_requests_are_counted_under_their_route(store: Store) -> None:
    _, token = await store.customer()
    async with http_client(store.url, token) as client:
        await client.list_tools()
    metrics = (await store.api.client.get("/metrics")).text
    assert any('route="/mcp"' in line and 'status="200"' in line for line in metrics.splitlines())
