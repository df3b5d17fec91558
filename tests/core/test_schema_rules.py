"""The JSON schema states the server's input rules exactly (found by schemathesis, ./dev fuzz):
for each rule, what the schema's pattern accepts is what the server accepts."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

import pytest
from pydantic import TypeAdapter, ValidationError

from storefront.cart.schemas import ShippingAddress
from storefront.catalog.schemas import ProductCreate
from storefront.core.schemas import MoneyIn, PositiveMoneyIn
from storefront.fields import IsoDate, Text, free_text, one_line
from storefront.taxes.schemas import RateIn
from storefront.todos.schemas import TodoCreate
from tests.helpers import Api, assert_error

SAMPLES = [
    "",
    "a",
    " a ",
    "\u3000a\u00a0",
    "   ",
    "\t\n",
    "a\nb",
    "a\tb",
    "a\x00b",
    "\x1c",
    "a\x1fb",
    "\x0ba\x0c",
    "\u2028",
    "x" * 10,
    " " + "x" * 9,
    "x" * 11,
    "x" * 9 + "  ",
    "+49 30 1234",
    "(030) 12-34",
    " +1 ",
    "49a",
]


def _annotated(rule: Text) -> Any:
    return Annotated[str, rule]


def _accepts(rule: Text, value: str) -> bool:
    try:
        TypeAdapter(_annotated(rule)).validate_python(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    "rule",
    [
        one_line(10),
        one_line(10, min_length=0),
        free_text(10),
        free_text(10, min_length=1, strip=False),
        Text(10, min_length=1, shape=r"\+?[0-9][0-9 ()./-]*", shape_message="a phone number"),
    ],
    ids=["one_line", "one_line_optional", "free_text", "query_text", "phone"],
)
def test_text_pattern_and_server_agree(rule: Text) -> None:
    schema = TypeAdapter(_annotated(rule)).json_schema()
    pattern = re.compile(schema["pattern"])
    for value in SAMPLES:
        by_schema = bool(pattern.search(value)) and len(value) <= schema["maxLength"]
        by_schema = by_schema and len(value) >= schema.get("minLength", 0)
        assert by_schema == _accepts(rule, value), (value, schema)


def test_lengths_count_the_text_as_sent() -> None:
    # " x…x " (12 characters, 10 after stripping) is over maxLength 10 as the schema says.
    assert not _accepts(one_line(10), " " + "x" * 10 + " ")
    assert _accepts(one_line(10), "x" * 10)


@pytest.mark.parametrize(
    ("adapter", "pattern_of"),
    [(TypeAdapter(MoneyIn), "19.90"), (TypeAdapter(PositiveMoneyIn), "0.01"), (TypeAdapter(RateIn), "0.19")],
)
def test_decimal_strings_follow_the_schema_pattern(adapter: TypeAdapter[Decimal], pattern_of: str) -> None:
    string_schema = next(part for part in adapter.json_schema()["anyOf"] if part["type"] == "string")
    pattern = re.compile(string_schema["pattern"])
    samples = [pattern_of, "", "1.", ".5", "1e2", " 1", "1.001", "0.0001", "5", "0", "0.00", "0.1", "0.05", "01.5"]
    for value in [*samples, "12345678901", "9999999999.99"]:
        try:
            adapter.validate_python(value)
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted == bool(pattern.search(value)), value


def test_numbers_are_not_booleans_and_dates_are_iso_text() -> None:
    with pytest.raises(ValidationError):
        TodoCreate.model_validate_json('{"title": "t", "priority": true}')
    for due in ("0", "1700000000", "2026-1-2"):
        with pytest.raises(ValidationError):
            TodoCreate.model_validate({"title": "t", "due_date": due})
    assert TypeAdapter(IsoDate).validate_python("2026-12-24").isoformat() == "2026-12-24"
    with pytest.raises(ValidationError):
        ProductCreate.model_validate_json('{"title": "t", "category": "c", "price": "1", "stock": false}')


def test_country_pattern_lists_exactly_the_codes() -> None:
    schema = ShippingAddress.model_json_schema()["properties"]["country"]
    pattern = re.compile(schema["pattern"])
    for accepted in ("DE", " de ", "gB"):
        assert pattern.search(accepted), accepted
    for refused in ("XX", "DEU", "D"):
        assert not pattern.search(refused), refused


async def test_api_refuses_what_the_schema_refuses(api: Api) -> None:
    customer = await api.customer()
    too_long = {"title": " " + "x" * 200}  # 201 characters as sent; maxLength is 200
    assert_error(await api.client.post("/api/v1/todos", json=too_long, headers=customer), 422, "VALIDATION_ERROR")
    blank = {"name": "\t \u3000"}
    response = await api.client.post("/api/v1/auth/api-tokens", json=blank, headers=customer)
    assert assert_error(response, 422, "VALIDATION_ERROR")["details"][0]["field"] == "name"
    dated = {"title": "t", "due_date": 0}
    assert_error(await api.client.post("/api/v1/todos", json=dated, headers=customer), 422, "VALIDATION_ERROR")
    empty_cursor = await api.client.get("/api/v1/todos", params={"cursor": ""}, headers=customer)
    assert empty_cursor.status_code == 200, empty_cursor.text  # the schema: empty is the first page
    twice = await api.client.get("/api/v1/todos?cursor=&cursor=x.y", headers=customer)
    assert assert_error(twice, 422, "VALIDATION_ERROR")["details"] == [
        {"field": "cursor", "message": "given more than once"}
    ]
    unknown_twice = await api.client.get("/api/v1/todos?utm=1&utm=2", headers=customer)  # not ours: ignored
    assert unknown_twice.status_code == 200, unknown_twice.text


async def test_a_new_zone_has_no_rate_ids_and_products_route_only_numbers(api: Api) -> None:
    admin = await api.admin_headers()
    rate = {"id": 1, "name": "Standard", "price": "4.90", "min_days": 1, "max_days": 2}
    zone = {"name": "Nowhere", "countries": [], "rates": [rate]}
    response = await api.client.post("/api/v1/admin/shipping-zones", json=zone, headers=admin)
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert error["details"][0]["field"] == "rates.0.id"
    # A category's slug fits its column: PostgreSQL answered a 121-character slug with a 500.
    category = await api.category()
    long_slug = {"slug": "a" * 121}
    response = await api.client.patch(f"/api/v1/categories/{category['id']}", json=long_slug, headers=admin)
    assert assert_error(response, 422, "VALIDATION_ERROR")["details"][0]["field"] == "slug"
    # A slug path parameter has a slug's shape (NUL reached PostgreSQL: a 500).
    bad_slug = await api.client.get("/api/v1/products/by-slug/%00abc")
    assert assert_error(bad_slug, 422, "VALIDATION_ERROR")["details"][0]["field"] == "slug"
    # /products/search answers 405 to PUT (not 403 or 422 from /products/{product_id}).
    response = await api.client.put("/api/v1/products/search", headers=admin)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
