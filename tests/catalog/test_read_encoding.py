"""The uncached reads write a product's JSON straight from its row (``product_json`` and
``encode_json``), not through ``ProductRead``: these tests hold the two byte-for-byte equal,
on both backends, with text and numbers chosen to trip an encoder."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.catalog import repository
from storefront.catalog.models import Product
from storefront.catalog.schemas import CategoryRead, ProductFilters, ProductRead, encode_json, product_json
from storefront.core.pagination import Page
from tests.helpers import Api

AWKWARD = [
    # (title, description, price, keywords)
    ('Quote " and back\\slash', "line one\nline two\r\n\ttabbed", "0.01", ['a"b', "c\\d"]),
    ("Ünïcödé 漢字 emoji 🎉", "</script><!-- & ' \u2028 \u2029 separators", "1234567.50", ["ß", "🎉"]),
    ("Plain", "", "10.00", []),
    ("Zero", "trailing space ", "0.00", ["x" * 60]),
]


def _validated(row: Any) -> ProductRead:
    """What the API wrote before: the row validated into the schema, then dumped by Pydantic."""
    return ProductRead(
        id=row.id,
        slug=row.slug,
        title=row.title,
        description=row.description,
        category=CategoryRead(id=row.category_id, name=row.category_name, slug=row.category_slug),
        price=row.price,
        stock=row.stock,
        low_stock_threshold=row.low_stock_threshold,
        seo_keywords=row.seo_keywords,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _shelf(api: Api) -> list[dict[str, Any]]:
    category = await api.category('Ärger & "quotes"')
    return [
        await api.product(category["slug"], title, description=description, price=price, seo_keywords=keywords)
        for title, description, price, keywords in AWKWARD
    ]


async def test_a_product_row_encodes_as_the_schema_does(api: Api, connection: AsyncConnection) -> None:
    shelf = await _shelf(api)
    # A time with no microseconds is written without a fraction by both encoders: pin one.
    await connection.execute(
        update(Product).where(Product.id == shelf[2]["id"]).values(updated_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    )
    for created in shelf:
        row = (await connection.execute(repository.PRODUCT_BY_ID, {"key": created["id"]})).one()
        assert encode_json(product_json(row)) == _validated(row).model_dump_json().encode()
        response = await api.client.get(f"/api/v1/products/{created['id']}")
        assert response.content == _validated(row).model_dump_json().encode()


async def test_a_listing_page_encodes_as_the_schema_does(api: Api, connection: AsyncConnection) -> None:
    shelf = await _shelf(api)
    category = shelf[0]["category"]["slug"]
    response = await api.client.get("/api/v1/products", params={"category": category, "limit": 3})
    body = response.json()
    statement, params = repository.listing(ProductFilters(category=category), "-created_at", 4, None, None)
    rows = list((await connection.execute(statement, params)).all())
    expected = Page[ProductRead](items=[_validated(row) for row in rows[:3]], next_cursor=body["next_cursor"])
    assert response.content == expected.model_dump_json().encode()
    assert [item["price"] for item in body["items"]] == ["0.00", "10.00", "1234567.50"]
    assert Decimal(body["items"][2]["price"]) == Decimal("1234567.50")
