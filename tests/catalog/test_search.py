"""Full-text search: the same behaviour on PostgreSQL (tsvector) and SQLite (FTS5)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import Api, assert_error


@pytest.fixture
async def catalog(api: Api) -> dict[str, dict[str, Any]]:
    kitchen = await api.category("Kitchen")
    garden = await api.category("Garden")
    specs = [
        (kitchen, "Blue Enamel Mug", "A sturdy cup for coffee and tea.", "12.00", 5),
        (kitchen, "Ceramic Teapot", "Pairs well with the blue enamel mug.", "30.00", 0),
        (kitchen, "Espresso Cups", "Small cups for strong coffee.", "18.00", 4),
        (garden, "Watering Can", "Galvanised steel, holds ten litres.", "25.00", 2),
        (garden, "Garden Hose", "Flexible hose, blue, thirty metres.", "40.00", 1),
    ]
    return {
        title: await api.product(category["slug"], title, description=description, price=price, stock=stock)
        for category, title, description, price, stock in specs
    }


async def _titles(api: Api, q: str, **params: Any) -> list[str]:
    response = await api.client.get("/api/v1/products/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def test_title_matches_rank_above_description_matches(api: Api, catalog: dict[str, Any]) -> None:
    assert await _titles(api, "mug") == ["Blue Enamel Mug", "Ceramic Teapot"]


async def test_words_are_all_required(api: Api, catalog: dict[str, Any]) -> None:
    assert await _titles(api, "blue hose") == ["Garden Hose"]


async def test_exact_phrase(api: Api, catalog: dict[str, Any]) -> None:
    assert await _titles(api, '"enamel mug"') == ["Blue Enamel Mug", "Ceramic Teapot"]
    assert await _titles(api, '"mug enamel"') == []


async def test_exclusion(api: Api, catalog: dict[str, Any]) -> None:
    assert await _titles(api, "blue -teapot -hose") == ["Blue Enamel Mug"]


async def test_or(api: Api, catalog: dict[str, Any]) -> None:
    assert sorted(await _titles(api, "teapot or hose")) == ["Ceramic Teapot", "Garden Hose"]


async def test_last_word_matches_as_a_prefix(api: Api, catalog: dict[str, Any]) -> None:
    assert await _titles(api, "enam") == ["Blue Enamel Mug", "Ceramic Teapot"]
    assert await _titles(api, "garden ho") == ["Garden Hose"]
    # Only the last word is a prefix: "enam mug" needs the whole word "enam".
    assert await _titles(api, "enam mug") == []


async def test_stemming(api: Api, catalog: dict[str, Any]) -> None:
    assert "Espresso Cups" in await _titles(api, "cup")


async def test_filters_apply_to_search(api: Api, catalog: dict[str, Any]) -> None:
    assert await _titles(api, "blue", category="garden") == ["Garden Hose"]
    assert await _titles(api, "coffee", max_price="15") == ["Blue Enamel Mug"]
    assert await _titles(api, "mug", in_stock="true") == ["Blue Enamel Mug"]


async def test_search_pages_by_cursor(api: Api, catalog: dict[str, Any]) -> None:
    expected = await _titles(api, "coffee or blue or hose")
    assert len(expected) == 4
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": "coffee or blue or hose", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        body = (await api.client.get("/api/v1/products/search", params=params)).json()
        seen += [item["title"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == expected
    bad = await api.client.get("/api/v1/products/search", params={"q": "blue", "cursor": "nope"})
    assert_error(bad, 400, "BAD_REQUEST")


@pytest.mark.parametrize("q", ['mug" OR *', "NEAR(a b)", "title:mug", "***", "-", '"', "a'b;--", "^mug", "!!mug | x"])
async def test_hostile_syntax_never_breaks(api: Api, catalog: dict[str, Any], q: str) -> None:
    response = await api.client.get("/api/v1/products/search", params={"q": q})
    assert response.status_code == 200, response.text
    page = response.json()
    assert set(page) == {"items", "next_cursor"}
    # Operators of the engines are plain text here: a product is found only through the
    # words typed (a stem or a prefix of one), never through syntax matching everything.
    typed = re.findall(r"\w+", q.lower())
    for item in page["items"]:
        words = re.findall(r"\w+", f"{item['title']} {item['description']}".lower())
        assert any(word.startswith(term) or term.startswith(word) for term in typed for word in words), item
    if not typed:
        assert page["items"] == []


async def test_query_length_is_checked(api: Api) -> None:
    assert_error(await api.client.get("/api/v1/products/search"), 422, "VALIDATION_ERROR")
    assert_error(await api.client.get("/api/v1/products/search", params={"q": ""}), 422, "VALIDATION_ERROR")
    assert_error(await api.client.get("/api/v1/products/search", params={"q": "x" * 201}), 422, "VALIDATION_ERROR")


async def test_updates_reach_the_index(api: Api, catalog: dict[str, Any]) -> None:
    can = catalog["Watering Can"]
    await api.client.patch(
        f"/api/v1/products/{can['id']}", json={"title": "Brass Sprinkler"}, headers=await api.admin_headers()
    )
    assert await _titles(api, "sprinkler") == ["Brass Sprinkler"]
    assert await _titles(api, "watering") == []
