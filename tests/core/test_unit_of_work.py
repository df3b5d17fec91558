"""One unit of work per request, committed before the response is sent."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.identity.models import User
from tests.helpers import Api, assert_error, bearer, failing_commits


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        # The database went away: an outage, to retry shortly (Retry-After).
        (lambda: ConnectionError("database went away during COMMIT"), 503, "SERVICE_UNAVAILABLE"),
        # Anything else is a bug: 500, the cause in the log only.
        (lambda: RuntimeError("a bug went away during COMMIT"), 500, "INTERNAL_ERROR"),
    ],
)
async def test_a_failing_commit_never_answers_2xx_and_keeps_nothing(
    api: Api, app: FastAPI, connection: AsyncConnection, error: Callable[[], Exception], status: int, code: str
) -> None:
    user, tokens = await api.user_tokens()
    healthy = api.state.db.sessionmaker
    api.state.db.sessionmaker = failing_commits(connection, lambda _: True, error)
    response = await api.client.patch(
        "/api/v1/users/me", json={"name": "Never Saved"}, headers=bearer(tokens["access_token"])
    )
    assert_error(response, status, code)
    assert "went away" not in response.text
    assert ("retry-after" in response.headers) == (status == 503)

    api.state.db.sessionmaker = healthy
    async with healthy() as session:
        assert await session.scalar(select(User.name).where(User.id == user["id"])) == user["name"]


async def test_domain_errors_roll_back_the_request(api: Api) -> None:
    # Registering the same email twice in one request is impossible, so use the
    # refresh flow: a refused logout must not have revoked anything.
    _, mine = await api.user_tokens()
    response = await api.client.post(
        "/api/v1/auth/logout", headers=bearer(mine["access_token"]), json={"refresh_token": "not a token"}
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert (await api.client.get("/api/v1/users/me", headers=bearer(mine["access_token"]))).status_code == 200
