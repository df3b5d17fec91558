"""Test helpers: a thin client for the identity flows every test needs, the app on a
real port, the ``storefront`` command as a process, and committed data cleaned up."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from storefront.catalog.models import Category, Product
from storefront.core.idempotency import IdempotencyKey
from storefront.core.jobs import Job
from storefront.identity.models import User
from storefront.identity.service import bootstrap_admin
from storefront.orders.models import Order, OrderLine, SentEmail
from storefront.runtime import Runtime
from storefront.shipping.models import ShippingZone

PASSWORD = "correct horse battery"


def failing_commits(
    connection: AsyncConnection,
    when: Callable[[Session], bool],
    error: Callable[[], Exception] = lambda: ConnectionError("database went away during COMMIT"),
) -> async_sessionmaker[AsyncSession]:
    """A session factory (inside the test's transaction) whose COMMIT fails with ``error``
    when ``when`` says so: by default as if the database went away at that moment."""

    class FailingCommit(Session):
        pass

    @event.listens_for(FailingCommit, "before_commit")
    def _fail(session: Session) -> None:
        if when(session):
            raise error()

    return async_sessionmaker(
        bind=connection,
        sync_session_class=FailingCommit,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )


_counter = itertools.count()


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert error["code"] == code
    assert error["request_id"] == response.headers["x-request-id"]
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """The app on a real loopback port (streaming needs a real server); yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a ``storefront`` process: none of ours, cheap password hashing, and ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("STOREFRONT_")}
    env.update({"STOREFRONT_PASSWORD_HASH_MEMORY_KIB": "8192", "STOREFRONT_PASSWORD_HASH_TIME_COST": "1"})
    env.update(extra)
    return env


def storefront(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the ``storefront`` command as a user would: a process in ``cwd``."""
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "storefront", *args],
        cwd=cwd,
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def contended(api: Api, *stocks: int) -> list[dict[str, Any]]:
    """Products with these stocks, named for ``clean_committed`` to find."""
    category = await api.category(f"Contention {id(api)}")
    return [
        await api.product(category["slug"], f"Contended {index} {id(api)}", price="2.00", stock=stock)
        for index, stock in enumerate(stocks)
    ]


async def clean_committed(engine: AsyncEngine, last_job: int) -> None:
    """Delete what a test on the real engine committed: the users it registered (and their
    carts, orders, payments, keys and emails), the jobs after ``last_job``, the ``contended``
    products and categories, and shipping zones named ``Contention …``."""
    async with engine.begin() as connection:
        users = select(User.id).where(User.email.like("%@example.com"))
        orders = select(Order.id).where(Order.user_id.in_(users))
        sent = [f"order-confirmation:{order_id}" for order_id in (await connection.scalars(orders)).all()]
        await connection.execute(delete(SentEmail).where(SentEmail.key.in_(sent)))
        await connection.execute(delete(OrderLine).where(OrderLine.order_id.in_(orders)))
        await connection.execute(delete(Order).where(Order.user_id.in_(users)))
        await connection.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id.in_(users)))
        await connection.execute(delete(Job).where(Job.id > last_job))
        await connection.execute(delete(Product).where(Product.title.like("Contended %")))
        await connection.execute(delete(Category).where(Category.name.like("Contention %")))
        # Rates, countries and the carts' choices go with the zone (CASCADE, SET NULL).
        await connection.execute(delete(ShippingZone).where(ShippingZone.name.like("Contention %")))
        await connection.execute(delete(User).where(User.id.in_(users)))


@dataclass
class Api:
    client: httpx.AsyncClient
    app: FastAPI

    @property
    def state(self) -> Runtime:
        state: Runtime = self.app.state.storefront
        return state

    async def register(
        self, email: str | None = None, password: str = PASSWORD, name: str = "Test User"
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/auth/register", json={"email": email or unique_email(), "password": password, "name": name}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = await self.client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def user_tokens(self, email: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Register and log in a new customer: (user, token pair)."""
        user = await self.register(email)
        return user, await self.login(user["email"])

    async def admin_headers(self) -> dict[str, str]:
        if not hasattr(self, "_admin_headers"):
            self._admin_headers = bearer((await self.admin_tokens())["access_token"])
        return self._admin_headers

    async def category(self, name: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {"name": name or f"Category {next(_counter)}", **fields}
        response = await self.client.post("/api/v1/categories", json=body, headers=await self.admin_headers())
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def product(self, category: str, title: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {"title": title or f"Product {next(_counter)}", "category": category, "price": "10.00", "stock": 5}
        body.update(fields)
        response = await self.client.post("/api/v1/products", json=body, headers=await self.admin_headers())
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def order(self, headers: dict[str, str], *items: tuple[int, int], key: str | None = None) -> httpx.Response:
        body = {"items": [{"product_id": product_id, "quantity": quantity} for product_id, quantity in items]}
        extra = {"Idempotency-Key": key} if key else {}
        return await self.client.post("/api/v1/orders", json=body, headers={**headers, **extra})

    async def customer(self) -> dict[str, str]:
        """Headers of a new customer."""
        _, tokens = await self.user_tokens()
        return bearer(tokens["access_token"])

    async def admin_tokens(self) -> dict[str, Any]:
        email = unique_email("admin")
        async with self.state.db.session_scope() as session:
            await bootstrap_admin(session, self.state.hasher, email, PASSWORD, "Admin")
        return await self.login(email)
