"""Todos: validation, ownership (BOLA), filters, completion timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import Api, assert_error


async def _todo(api: Api, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await api.client.post("/api/v1/todos", json={"title": "Buy milk", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_with_defaults(api: Api) -> None:
    me = await api.customer()
    response = await api.client.post("/api/v1/todos", json={"title": "  Water the plants  "}, headers=me)
    assert response.status_code == 201
    todo = response.json()
    assert response.headers["location"] == f"/api/v1/todos/{todo['id']}"
    assert todo["title"] == "Water the plants"
    assert (todo["description"], todo["priority"], todo["due_date"], todo["completed"], todo["completed_at"]) == (
        "", 3, None, False, None,
    )  # fmt: skip
    done = await _todo(api, me, completed=True, due_date="2026-12-24", priority=5)
    assert done["completed_at"] is not None
    assert done["due_date"] == "2026-12-24"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "priority": 0}, "priority"),
        ({"title": "ok", "priority": 6}, "priority"),
        ({"title": "ok", "description": "d" * 1001}, "description"),
        ({"title": "ok", "due_date": "tomorrow"}, "due_date"),
        ({"title": "ok", "owner_id": 1}, "owner_id"),
        ({"title": "ok", "completed_at": "2026-01-01T00:00:00Z"}, "completed_at"),
        ({}, "title"),
    ],
)
async def test_validation(api: Api, body: dict[str, Any], field: str) -> None:
    response = await api.client.post("/api/v1/todos", json=body, headers=await api.customer())
    assert assert_error(response, 422, "VALIDATION_ERROR")["details"][0]["field"] == field


async def test_title_of_exactly_200_characters_is_fine(api: Api) -> None:
    assert (await _todo(api, await api.customer(), title="x" * 200))["title"] == "x" * 200


async def test_another_users_todo_does_not_exist_for_them(api: Api) -> None:
    alice, bob = await api.customer(), await api.customer()
    todo = await _todo(api, alice, title="Alice's secret plan", description="surprise party")
    url = f"/api/v1/todos/{todo['id']}"
    assert_error(await api.client.get(url, headers=bob), 404, "NOT_FOUND")
    assert_error(await api.client.patch(url, json={"title": "pwned", "completed": True}, headers=bob), 404, "NOT_FOUND")
    assert_error(await api.client.delete(url, headers=bob), 404, "NOT_FOUND")
    assert (await api.client.get(url, headers=alice)).json() == todo
    assert (await api.client.get("/api/v1/todos", headers=bob)).json()["items"] == []
    assert (await api.client.get("/api/v1/todos", params={"q": "secret"}, headers=bob)).json()["items"] == []
    assert_error(await api.client.get(url), 401, "UNAUTHENTICATED")


async def test_completion_sets_and_clears_completed_at(api: Api) -> None:
    me = await api.customer()
    todo = await _todo(api, me)
    url = f"/api/v1/todos/{todo['id']}"
    done = (await api.client.patch(url, json={"completed": True}, headers=me)).json()
    assert done["completed"] is True
    assert done["completed_at"] is not None
    renamed = (await api.client.patch(url, json={"title": "Buy oat milk"}, headers=me)).json()
    assert renamed["completed_at"] == done["completed_at"]
    undone = (await api.client.patch(url, json={"completed": False}, headers=me)).json()
    assert undone["completed_at"] is None
    assert_error(await api.client.patch(url, json={"priority": 9}, headers=me), 422, "VALIDATION_ERROR")
    assert (await api.client.delete(url, headers=me)).status_code == 204
    assert_error(await api.client.get(url, headers=me), 404, "NOT_FOUND")


async def test_filters_and_pages(api: Api) -> None:
    me = await api.customer()
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    late = await _todo(api, me, title="Pay rent", due_date=yesterday, priority=5)
    await _todo(api, me, title="Paid bill", due_date=yesterday, completed=True)
    soon = await _todo(api, me, title="Book 100% flight", description="window_seat", due_date=tomorrow, priority=1)

    async def ids(**params: Any) -> list[int]:
        body = (await api.client.get("/api/v1/todos", params=params, headers=me)).json()
        return [item["id"] for item in body["items"]]

    assert await ids(overdue="true") == [late["id"]]
    assert await ids(priority=1) == [soon["id"]]
    assert len(await ids(completed="false")) == 2
    assert await ids(q="RENT") == [late["id"]]
    assert await ids(q="100%") == [soon["id"]]  # wildcards are literal
    assert await ids(q="w_ndow") == []
    assert await ids(q="window_seat") == [soon["id"]]
    first = (await api.client.get("/api/v1/todos", params={"limit": 2}, headers=me)).json()
    rest = (await api.client.get("/api/v1/todos", params={"cursor": first["next_cursor"]}, headers=me)).json()
    assert len(first["items"]) + len(rest["items"]) == 3
    assert rest["next_cursor"] is None
