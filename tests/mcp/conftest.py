"""MCP fixtures: the app served on a loopback port with committed data, and MCP
clients (the official SDK's) over streamable HTTP and over a spawned `storefront mcp`.

The per-test rolled-back transaction is invisible to other connections and to
another process, so these tests commit and clean up after themselves, like the
concurrency tests."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types import CallToolResult
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storefront.app import create_app
from storefront.catalog.models import Category, Product
from storefront.config import Settings
from storefront.core.jobs import Job
from tests.conftest import REDIS_URL, TEST_SECRET, make_settings
from tests.helpers import Api, bearer, clean_committed, serve

# Names of what these tests create, for the clean-up.
PREFIX = "MCP "

Connect = Callable[[str], AbstractAsyncContextManager[Client]]
# What a client of streamable HTTP must accept, for requests sent without the SDK.
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


@dataclass
class Store:
    """The served app: its HTTP API (in process) and its address on loopback."""

    api: Api
    url: str
    settings: Settings

    async def customer(self) -> tuple[dict[str, Any], str]:
        """A new customer and their access token."""
        user, tokens = await self.api.user_tokens()
        return user, str(tokens["access_token"])

    async def admin_token(self) -> str:
        return str((await self.api.admin_tokens())["access_token"])

    async def api_token(self, access_token: str) -> dict[str, Any]:
        response = await self.api.client.post(
            "/api/v1/auth/api-tokens", json={"name": "agent"}, headers=bearer(access_token)
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def product(self, title: str, stock: int = 5, price: str = "12.50") -> dict[str, Any]:
        category = await self.api.category(f"{PREFIX}{title} shelf")
        return await self.api.product(category["slug"], f"{PREFIX}{title}", stock=stock, price=price)


async def _clean_up(engine: AsyncEngine, last_job: int) -> None:
    await clean_committed(engine, last_job)  # users (and their todos, tokens), orders, jobs, emails
    async with engine.begin() as connection:
        await connection.execute(delete(Product).where(Product.title.like(f"{PREFIX}%")))
        await connection.execute(delete(Category).where(Category.name.like(f"{PREFIX}%")))


@pytest.fixture
async def store(settings: Settings, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Store]:
    async with engine.connect() as connection:
        last_job = await connection.scalar(select(Job.id).order_by(Job.id.desc()).limit(1)) or 0
    store_settings = make_settings(tmp_path, database_url=settings.resolved_database_url)
    app = create_app(store_settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=60) as client,
        serve(app) as url,
    ):
        if app.state.storefront.redis is not None:
            await app.state.storefront.redis.flushdb()
        try:
            yield Store(Api(client, app), url, store_settings)
        finally:
            await _clean_up(engine, last_job)


@asynccontextmanager
async def http_client(url: str, token: str, mode: str = "auto") -> AsyncIterator[Client]:
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode) as client,
    ):
        yield client


def stdio_env(settings: Settings, token: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("STOREFRONT_")}
    env.update(
        {
            "STOREFRONT_DATABASE_URL": settings.resolved_database_url,
            "STOREFRONT_DATA_DIR": str(settings.data_dir),
            "STOREFRONT_JWT_SECRET": TEST_SECRET,
            "STOREFRONT_AUTO_MIGRATE": "false",
            "STOREFRONT_JOBS_INLINE": "true",
            "STOREFRONT_LOG_LEVEL": "WARNING",
            "STOREFRONT_MCP_TOKEN": token,
        }
    )
    if REDIS_URL:
        env["STOREFRONT_REDIS_URL"] = REDIS_URL
    return env


def stdio_command() -> list[str]:
    return [sys.executable, "-m", "storefront", "mcp"]


@asynccontextmanager
async def stdio_client(settings: Settings, token: str, mode: str = "auto") -> AsyncIterator[Client]:
    command, *args = stdio_command()
    parameters = StdioServerParameters(command=command, args=args, env=stdio_env(settings, token))
    async with Client(parameters, read_timeout_seconds=60, mode=mode) as client:
        yield client


@pytest.fixture(params=["http", "stdio"])
def connect(request: pytest.FixtureRequest, store: Store) -> Connect:
    """An MCP client acting as the owner of a token, over each transport in turn."""
    if request.param == "http":
        return lambda token: http_client(store.url, token)
    return lambda token: stdio_client(store.settings, token)


def data(result: CallToolResult) -> dict[str, Any]:
    """The structured result of a successful call."""
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def error(result: CallToolResult, code: str) -> dict[str, Any]:
    """The error envelope of a failed call, checked to carry ``code``."""
    assert result.is_error, result.structured_content
    assert isinstance(result.structured_content, dict)
    envelope: dict[str, Any] = result.structured_content["error"]
    assert envelope["code"] == code, envelope
    assert envelope["message"]
    return envelope
