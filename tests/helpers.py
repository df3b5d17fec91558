"""Test helpers: a thin client for the identity flows every test needs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from storefront.core.state import AppState
from storefront.identity.repository import UserRepository
from storefront.identity.users import bootstrap_admin

PASSWORD = "correct horse battery"
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
    def state(self) -> AppState:
        state: AppState = self.app.state.storefront
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

    async def admin_tokens(self) -> dict[str, Any]:
        email = unique_email("admin")
        async with self.state.db.session_scope() as session:
            await bootstrap_admin(UserRepository(session), self.state.hasher, email, PASSWORD, "Admin")
        return await self.login(email)
