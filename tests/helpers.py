"""Test helpers: a thin client for the identity flows every test needs."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from storefront.identity.repository import UserRepository
from storefront.identity.users import bootstrap_admin
from storefront.runtime import Runtime

PASSWORD = "correct horse battery"


def failing_commits(connection: AsyncConnection, when: Callable[[Session], bool]) -> async_sessionmaker[AsyncSession]:
    """A session factory (inside the test's transaction) whose COMMIT fails when ``when``
    says so, as if the database went away at that moment."""

    class FailingCommit(Session):
        pass

    @event.listens_for(FailingCommit, "before_commit")
    def _fail(session: Session) -> None:
        if when(session):
            raise ConnectionError("database went away during COMMIT")

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
            await bootstrap_admin(UserRepository(session), self.state.hasher, email, PASSWORD, "Admin")
        return await self.login(email)
