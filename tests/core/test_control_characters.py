"""NUL and other control characters are refused in text where they make no sense, with a
422 at the field, on both backends (PostgreSQL cannot store NUL: it would be a 500)."""

from __future__ import annotations

import pytest

from tests.helpers import Api, assert_error


@pytest.mark.parametrize("bad", ["A\x00B", "A\x1bB", "line\nbreak"])
async def test_names_and_titles_refuse_control_characters(api: Api, bad: str) -> None:
    admin = await api.admin_headers()
    customer = await api.customer()
    category = await api.category()
    attempts = [
        ("/api/v1/categories", {"name": bad}, admin, "name"),
        ("/api/v1/products", {"title": bad, "category": category["slug"], "price": "1.00", "stock": 1}, admin, "title"),
        ("/api/v1/todos", {"title": bad}, customer, "title"),
        ("/api/v1/auth/register", {"email": "nul@example.com", "password": "long enough pw", "name": bad}, {}, "name"),
    ]
    for path, body, headers, field in attempts:
        error = assert_error(await api.client.post(path, json=body, headers=headers), 422, "VALIDATION_ERROR")
        assert [detail["field"] for detail in error["details"]] == [field], (path, error)


async def test_free_text_keeps_line_breaks_and_refuses_nul(api: Api) -> None:
    admin = await api.admin_headers()
    category = await api.category()
    body = {
        "title": "Two lines",
        "category": category["slug"],
        "price": "1.00",
        "stock": 1,
        "description": "one\n\ttwo",
    }
    created = await api.client.post("/api/v1/products", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["description"] == "one\n\ttwo"
    nul = await api.client.post("/api/v1/products", json={**body, "description": "a\x00b"}, headers=admin)
    assert_error(nul, 422, "VALIDATION_ERROR")
    assert_error(await api.client.get("/api/v1/products/search", params={"q": "mug\x00"}), 422, "VALIDATION_ERROR")
    customer = await api.customer()
    listed = await api.client.get("/api/v1/todos", params={"q": "a\x00"}, headers=customer)
    assert_error(listed, 422, "VALIDATION_ERROR")
