"""Only tokens this server issued and still honours open /mcp and `storefront mcp`."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from mcp.shared.exceptions import MCPError

from storefront.core.security import TokenCodec
from tests.helpers import assert_error, bearer
from tests.mcp.conftest import MCP_HEADERS, Store, data, error, http_client, stdio_client, stdio_command, stdio_env

# A JSON-RPC request; it is refused before the MCP transport reads it.
PING = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


async def _expired(store: Store) -> str:
    user, _ = await store.customer()
    codec: TokenCodec = store.api.state.tokens
    token, _ = codec.issue(user["id"], "access", "f" * 32, now=datetime.now(UTC) - timedelta(hours=1))
    return token


async def _foreign(store: Store) -> str:
    _, token = await store.customer()
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, "someone-elses-secret-" + "z" * 40, algorithm="HS256")


async def _logged_out(store: Store) -> str:
    _, token = await store.customer()
    response = await store.api.client.post("/api/v1/auth/logout", headers=bearer(token))
    assert response.status_code == 204
    return token


async def _deactivated(store: Store) -> str:
    user, token = await store.customer()
    admin = bearer(await store.admin_token())
    response = await store.api.client.patch(f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=admin)
    assert response.status_code == 200, response.text
    return token


async def _deleted_api_token(store: Store) -> str:
    _, token = await store.customer()
    created = await store.api_token(token)
    response = await store.api.client.delete(f"/api/v1/auth/api-tokens/{created['id']}", headers=bearer(token))
    assert response.status_code == 204
    return str(created["token"])


async def _garbage(store: Store) -> str:
    return "not-a-token"


BAD_TOKENS: dict[str, Callable[[Store], Awaitable[str]]] = {
    "expired": _expired,
    "foreign-signed": _foreign,
    "logged-out": _logged_out,
    "deactivated-user": _deactivated,
    "deleted-api-token": _deleted_api_token,
    "garbage": _garbage,
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
async def test_refused_tokens_get_401_with_the_envelope(store: Store, kind: str) -> None:
    token = await BAD_TOKENS[kind](store)
    async with httpx.AsyncClient(timeout=60) as client:  # httpx's 5 s default is short on a loaded CI
        response = await client.post(f"{store.url}/mcp", json=PING, headers={**MCP_HEADERS, **bearer(token)})
    assert_error(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_no_token_is_401(store: Store) -> None:
    async with httpx.AsyncClient(timeout=60) as client:  # httpx's 5 s default is short on a loaded CI
        response = await client.post(f"{store.url}/mcp", json=PING, headers=MCP_HEADERS)
    assert_error(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_the_mcp_client_cannot_connect_with_an_expired_token(store: Store) -> None:
    with pytest.raises(ExceptionGroup) as refused:
        async with http_client(store.url, await _expired(store)) as client:
            await client.list_tools()
    assert refused.group_contains(MCPError, depth=None)


async def test_a_personal_api_token_works_over_http(store: Store) -> None:
    _, token = await store.customer()
    api_token = str((await store.api_token(token))["token"])
    async with http_client(store.url, api_token) as client:
        created = data(await client.call_tool("create_todo", {"title": "From a script"}))
    mine = await store.api.client.get(f"/api/v1/todos/{created['id']}", headers=bearer(token))
    assert mine.status_code == 200


async def _run_stdio(store: Store, token: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,  # our own command
        stdio_command(),
        env=stdio_env(store.settings, token),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("kind", ["expired", "foreign-signed", "deleted-api-token"])
async def test_stdio_refuses_to_start_with_a_refused_token(store: Store, kind: str) -> None:
    token = await BAD_TOKENS[kind](store)
    result = await _run_stdio(store, token)
    assert result.returncode == 1
    assert result.stdout == ""  # the protocol stream stays clean
    assert "STOREFRONT_MCP_TOKEN was refused" in result.stderr


async def test_stdio_needs_a_token(store: Store) -> None:
    result = await _run_stdio(store, "")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "set STOREFRONT_MCP_TOKEN" in result.stderr


async def test_stdio_checks_the_token_on_every_call(store: Store) -> None:
    _, token = await store.customer()
    created = await store.api_token(token)
    async with stdio_client(store.settings, str(created["token"])) as client:
        data(await client.call_tool("list_todos", {}))
        deleted = await store.api.client.delete(f"/api/v1/auth/api-tokens/{created['id']}", headers=bearer(token))
        assert deleted.status_code == 204
        error(await client.call_tool("list_todos", {}), "UNAUTHENTICATED")
        error(await client.call_tool("search_products", {"query": "mug"}), "UNAUTHENTICATED")
