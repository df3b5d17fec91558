"""Races settled by a unique index answer 409 CONFLICT, never 500 (real concurrent
requests, each in its own transaction)."""

from __future__ import annotations

import asyncio
import uuid

from tests.helpers import PASSWORD, Api, assert_error


async def test_twenty_concurrent_registrations_of_one_email_make_one_account(live: Api) -> None:
    body = {"email": f"race-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD, "name": "Racer"}
    responses = await asyncio.gather(*(live.client.post("/api/v1/auth/register", json=body) for _ in range(20)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 19, statuses
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "CONFLICT")


async def test_concurrent_categories_of_one_name_make_one(live: Api) -> None:
    admin = await live.admin_headers()
    # Non-ASCII on purpose: SQLite's lower() folds ASCII only, so only the unique index can tell.
    body = {"name": f"Contention Ørsted {uuid.uuid4().hex[:6]}"}
    responses = await asyncio.gather(
        *(live.client.post("/api/v1/categories", json=body, headers=admin) for _ in range(10))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 9, statuses
    again = await live.client.post("/api/v1/categories", json=body, headers=admin)
    assert_error(again, 409, "CONFLICT")
