"""Listing: filters, sorts, keyset pages, offsets, and the edges of pagination."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.helpers import Api, assert_error


async def _all_pages(api: Api, **params: Any) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await api.client.get("/api/v1/products", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


@pytest.fixture
async def shelf(api: Api) -> list[dict[str, Any]]:
    category = await api.category()
    specs = [
        ("Delta", "5.00", 3),
        ("alpha", "20.00", 0),
        ("Charlie", "5.00", 1),
        ("Bravo", "12.50", 7),
        ("Echo", "99.99", 2),
    ]
    return [
        await api.product(category["slug"], title, price=price, stock=stock, description=f"{title} item")
        for title, price, stock in specs
    ]


def _ids(items: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in items]


async def test_default_sort_is_newest_first(api: Api, shelf: list[dict[str, Any]]) -> None:
    category = shelf[0]["category"]["slug"]
    items, _ = await _all_pages(api, category=category)
    assert _ids(items) == sorted(_ids(shelf), reverse=True)


@pytest.mark.parametrize("sort", ["price", "-price", "title", "-title", "created_at", "-created_at"])
async def test_every_sort_pages_through_everything_once(api: Api, shelf: list[dict[str, Any]], sort: str) -> None:
    category = shelf[0]["category"]["slug"]
    items, pages = await _all_pages(api, category=category, sort=sort, limit=2)
    assert pages == 3
    assert sorted(_ids(items)) == sorted(_ids(shelf))
    key = sort.lstrip("-")
    reverse = sort.startswith("-")

    def sort_key(item: dict[str, Any]) -> tuple[Any, int]:
        value = Decimal(item[key]) if key == "price" else item[key]
        return value, item["id"]

    expected = sorted(shelf, key=sort_key, reverse=reverse)
    if key == "title":  # collations differ per backend on case; compare case-insensitively
        assert [item["title"].lower() for item in items] == [item["title"].lower() for item in expected]
    else:
        assert _ids(items) == _ids(expected)


async def test_filters(api: Api, shelf: list[dict[str, Any]]) -> None:
    category = shelf[0]["category"]["slug"]

    def titles(items: list[dict[str, Any]]) -> list[str]:
        return sorted(item["title"] for item in items)

    cheap, _ = await _all_pages(api, category=category, max_price="5.00")
    assert titles(cheap) == ["Charlie", "Delta"]
    middle, _ = await _all_pages(api, category=category, min_price="5.01", max_price=20)
    assert titles(middle) == ["Bravo", "alpha"]
    in_stock, _ = await _all_pages(api, category=category, in_stock="true")
    assert "alpha" not in titles(in_stock)
    assert len(in_stock) == 4
    out, _ = await _all_pages(api, category=category, in_stock="false")
    assert titles(out) == ["alpha"]
    other = await api.category()
    assert (await _all_pages(api, category=other["slug"]))[0] == []
    assert (await _all_pages(api, category="no-such-category"))[0] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": 10001}, "offset"),
        ({"offset": -1}, "offset"),
        ({"sort": "stock"}, "sort"),
        ({"min_price": "1.005"}, "min_price"),
        ({"min_price": "-1"}, "min_price"),
        ({"min_price": "9", "max_price": "1"}, "min_price"),
        ({"in_stock": "perhaps"}, "in_stock"),
    ],
)
async def test_bad_listing_parameters_are_422(api: Api, params: dict[str, Any], field: str) -> None:
    error = assert_error(await api.client.get("/api/v1/products", params=params), 422, "VALIDATION_ERROR")
    assert error["details"][0]["field"] == field


async def test_bad_cursors_are_400(api: Api, shelf: list[dict[str, Any]]) -> None:
    category = shelf[0]["category"]["slug"]
    first = (await api.client.get("/api/v1/products", params={"category": category, "limit": 1})).json()
    cursor = first["next_cursor"]
    for bad in ["garbage", cursor + "x", "x" + cursor, cursor.split(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAA"]:
        response = await api.client.get("/api/v1/products", params={"category": category, "cursor": bad})
        assert_error(response, 400, "BAD_REQUEST")
    other_sort = await api.client.get("/api/v1/products", params={"sort": "price", "cursor": cursor})
    assert_error(other_sort, 400, "BAD_REQUEST")
    with_offset = await api.client.get("/api/v1/products", params={"cursor": cursor, "offset": 2})
    assert_error(with_offset, 422, "VALIDATION_ERROR")


async def test_offset_gives_random_access(api: Api, shelf: list[dict[str, Any]]) -> None:
    category = shelf[0]["category"]["slug"]
    everything, _ = await _all_pages(api, category=category, sort="price")
    page = (
        await api.client.get(
            "/api/v1/products", params={"category": category, "sort": "price", "offset": 3, "limit": 2}
        )
    ).json()
    assert _ids(page["items"]) == _ids(everything[3:5])
    beyond = (await api.client.get("/api/v1/products", params={"category": category, "offset": 50})).json()
    assert beyond == {"items": [], "next_cursor": None}


async def test_empty_and_exact_last_pages(api: Api) -> None:
    category = await api.category()
    empty = (await api.client.get("/api/v1/products", params={"category": category["slug"]})).json()
    assert empty == {"items": [], "next_cursor": None}
    for _ in range(2):
        await api.product(category["slug"])
    exact = (await api.client.get("/api/v1/products", params={"category": category["slug"], "limit": 2})).json()
    assert len(exact["items"]) == 2
    assert exact["next_cursor"] is None


async def test_inserts_between_pages_neither_repeat_nor_skip(api: Api, shelf: list[dict[str, Any]]) -> None:
    category = shelf[0]["category"]["slug"]
    for sort in ("-created_at", "price"):
        first = (
            await api.client.get("/api/v1/products", params={"category": category, "limit": 2, "sort": sort})
        ).json()
        # New products land before and after the cursor position.
        added = [
            await api.product(category, price="0.01"),
            await api.product(category, price="1000.00"),
        ]
        rest, _ = await _all_pages(api, category=category, sort=sort, cursor=first["next_cursor"], limit=2)
        seen = _ids(first["items"]) + _ids(rest)
        assert len(seen) == len(set(seen))
        assert set(_ids(shelf)) <= set(seen)
        for product in added:
            await api.client.delete(f"/api/v1/products/{product['id']}", headers=await api.admin_headers())


async def test_a_write_refreshes_the_cached_first_page(api: Api, shelf: list[dict[str, Any]]) -> None:
    category = shelf[0]["category"]["slug"]
    before = (await api.client.get("/api/v1/products", params={"category": category})).json()
    newest = await api.product(category, "Foxtrot")
    after = (await api.client.get("/api/v1/products", params={"category": category})).json()
    assert after["items"][0]["id"] == newest["id"]
    assert len(after["items"]) == len(before["items"]) + 1
    await api.client.patch(
        f"/api/v1/products/{newest['id']}", json={"title": "Golf"}, headers=await api.admin_headers()
    )
    again = (await api.client.get("/api/v1/products", params={"category": category})).json()
    assert again["items"][0]["title"] == "Golf"
