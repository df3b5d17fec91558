"""The scale-out stack, started once for the suite (tests/scaleout/stack.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Generator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, REDIS_URL, _admin_query
from tests.scaleout.stack import (
    INSTALL,
    PASSWORD,
    Shop,
    Stack,
    ensure_binaries,
    find_binary,
    redis_url,
    start_smtp,
    wait_port,
    wait_ready,
)

CUSTOMERS = 12


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed scenario shows the last lines of every process of the stack."""
    report = yield
    shop = getattr(item, "funcargs", {}).get("shop")
    if report.failed and isinstance(shop, Shop):
        report.sections.append(("scale-out processes: the last lines of their logs", shop.stack.logs()))
    return report


async def _customers(client: httpx.AsyncClient, count: int) -> list[dict[str, str]]:
    async def one(index: int) -> dict[str, str]:
        email = f"scale-{uuid.uuid4().hex[:8]}-{index}@example.com"
        registered = await client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "S"}
        )
        assert registered.status_code == 201, registered.text
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        return {"Authorization": f"Bearer {login.json()['access_token']}"}

    return list(await asyncio.gather(*(one(index) for index in range(count))))


async def _catalog(client: httpx.AsyncClient, admin: dict[str, str]) -> list[dict[str, Any]]:
    category = await client.post("/api/v1/categories", json={"name": "Scale out"}, headers=admin)
    assert category.status_code == 201, category.text
    products = []
    for index in range(5):
        body = {
            "title": f"Scale mug {index}",
            "category": category.json()["slug"],
            "price": "4.50",
            "stock": 100_000,
        }
        created = await client.post("/api/v1/products", json=body, headers=admin)
        assert created.status_code == 201, created.text
        products.append(created.json())
    return products


def _run(stack: Stack, *args: str) -> None:
    env = stack.env() | {"STOREFRONT_DATABASE_URL": stack.direct_url, "STOREFRONT_DATABASE_PGBOUNCER": "false"}
    done = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "storefront", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="session")
async def shop(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shop]:
    assert PG_URL is not None
    assert REDIS_URL is not None
    missing = ensure_binaries(("haproxy", "pgbouncer"))
    if missing:
        message = f"the scale-out suite needs {' and '.join(missing)}: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    url = make_url(PG_URL)
    database = f"storefront_scaleout_{uuid.uuid4().hex[:10]}"
    async with contextlib.AsyncExitStack() as cleanup:  # undone in reverse, whatever happens
        await _admin_query(PG_URL, f'CREATE DATABASE "{database}"')
        cleanup.push_async_callback(_admin_query, PG_URL, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        smtp, smtp_port, controller = start_smtp()
        cleanup.callback(controller.stop)
        stack = Stack(
            root=tmp_path_factory.mktemp("scaleout"),
            database=database,
            pg_host=url.host or "127.0.0.1",
            pg_port=url.port or 5432,
            redis_url=redis_url(REDIS_URL),
            smtp=smtp,
            smtp_port=smtp_port,
        )
        redis = Redis.from_url(stack.redis_url)
        cleanup.push_async_callback(redis.aclose)
        cleanup.push_async_callback(redis.flushdb)
        cleanup.callback(stack.stop_all)  # every child process, first
        try:
            await redis.flushdb()
            shop = await _start(stack)
        except BaseException:
            print(stack.logs())
            raise
        yield shop


async def _start(stack: Stack) -> Shop:
    """PgBouncer, the schema and the first admin, two APIs and two workers, HAProxy; then a
    catalog and customers through the balancer."""
    stack.start_pgbouncer(str(find_binary("pgbouncer")))
    assert await wait_port(stack.infra[-1], stack.pgbouncer_port), "PgBouncer did not start"
    # Migrations and the first admin go to PostgreSQL directly, as in production.
    _run(stack, "db", "upgrade")
    admin_email = f"boss-{uuid.uuid4().hex[:6]}@example.com"
    _run(stack, "create-admin", "--email", admin_email, "--password", PASSWORD)
    for _ in range(2):
        stack.add_api()
        stack.add_worker()
    for process in (*stack.apis, *stack.workers):
        process.start()
    stack.start_haproxy(str(find_binary("haproxy")))
    assert await wait_port(stack.infra[-1], stack.lb_port), "HAProxy did not start"
    for index in range(2):
        assert await wait_ready(stack.api_url(index), 90), f"api{index + 1} did not become ready"
        assert await stack.wait_backend(index, "UP"), f"HAProxy does not see api{index + 1} up"
    async with httpx.AsyncClient(base_url=stack.lb, timeout=30) as client:
        login = await client.post("/api/v1/auth/login", json={"email": admin_email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        products = await _catalog(client, admin)
        customers = await _customers(client, CUSTOMERS)
    return Shop(stack, admin, products, customers)
