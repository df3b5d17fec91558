"""Product and category writes: permissions, slugs, money, preconditions, deletion."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.helpers import Api, assert_error, bearer


@pytest.fixture
async def kitchen(api: Api) -> dict[str, Any]:
    return await api.category("Kitchen")


async def test_create_product_derives_an_ascii_slug(api: Api, kitchen: dict[str, Any]) -> None:
    response = await api.client.post(
        "/api/v1/products",
        json={"title": "Blue Enamel Mug", "category": "kitchen", "price": 12.5, "stock": 3},
        headers=await api.admin_headers(),
    )
    assert response.status_code == 201, response.text
    product = response.json()
    assert product["slug"] == "blue-enamel-mug"
    assert product["price"] == "12.50"
    assert product["low_stock_threshold"] == 5
    assert product["category"] == kitchen
    assert product["seo_keywords"] == []
    assert response.headers["location"] == f"/api/v1/products/{product['id']}"
    assert response.headers["etag"] == f'"{product["id"]}-1"'
    accented = await api.product("kitchen", "Crème Brûlée Torch")
    assert accented["slug"] == "creme-brulee-torch"


async def test_duplicate_slugs_conflict(api: Api, kitchen: dict[str, Any]) -> None:
    await api.product("kitchen", "Teapot")
    headers = await api.admin_headers()
    derived = await api.client.post(
        "/api/v1/products", json={"title": "Teapot", "category": "kitchen", "price": 1, "stock": 1}, headers=headers
    )
    assert_error(derived, 409, "CONFLICT")
    explicit = await api.client.post(
        "/api/v1/products",
        json={"title": "Other", "slug": "teapot", "category": "kitchen", "price": 1, "stock": 1},
        headers=headers,
    )
    assert_error(explicit, 409, "CONFLICT")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", "19.999"),
        ("price", -1),
        ("price", "abc"),
        ("price", "NaN"),
        ("stock", -1),
        ("low_stock_threshold", -5),
        ("title", "   "),
        ("slug", "Not A Slug"),
        ("category", "no-such-category"),
        ("id", 7),
        ("version", 3),
    ],
)
async def test_product_validation(api: Api, kitchen: dict[str, Any], field: str, value: object) -> None:
    body = {"title": "Valid", "category": "kitchen", "price": "1.00", "stock": 1, field: value}
    response = await api.client.post("/api/v1/products", json=body, headers=await api.admin_headers())
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert error["details"][0]["field"] == field


async def test_writes_need_an_admin(api: Api, kitchen: dict[str, Any]) -> None:
    body = {"title": "Sneaky", "category": "kitchen", "price": 1, "stock": 1}
    assert_error(await api.client.post("/api/v1/products", json=body), 401, "UNAUTHENTICATED")
    _, tokens = await api.user_tokens()
    customer = bearer(tokens["access_token"])
    assert_error(await api.client.post("/api/v1/products", json=body, headers=customer), 403, "FORBIDDEN")
    product = await api.product("kitchen")
    patch = await api.client.patch(f"/api/v1/products/{product['id']}", json={"price": 0}, headers=customer)
    assert_error(patch, 403, "FORBIDDEN")
    delete = await api.client.delete(f"/api/v1/products/{product['id']}", headers=customer)
    assert_error(delete, 403, "FORBIDDEN")
    assert_error(await api.client.post("/api/v1/categories", json={"name": "X"}, headers=customer), 403, "FORBIDDEN")


async def test_reads_are_public_by_id_and_slug(api: Api, kitchen: dict[str, Any]) -> None:
    product = await api.product("kitchen", "Whisk")
    by_id = await api.client.get(f"/api/v1/products/{product['id']}")
    by_slug = await api.client.get("/api/v1/products/by-slug/whisk")
    assert by_id.json() == by_slug.json() == product
    assert by_id.headers["etag"] == by_slug.headers["etag"]
    assert_error(await api.client.get("/api/v1/products/2000000000"), 404, "NOT_FOUND")
    assert_error(await api.client.get("/api/v1/products/by-slug/nope"), 404, "NOT_FOUND")
    assert_error(await api.client.get(f"/api/v1/products/{2**40}"), 422, "VALIDATION_ERROR")


async def test_patch_and_put_honour_if_match(api: Api, kitchen: dict[str, Any]) -> None:
    product = await api.product("kitchen", "Kettle", price="20.00")
    headers = await api.admin_headers()
    url = f"/api/v1/products/{product['id']}"
    first_tag = (await api.client.get(url)).headers["etag"]

    patched = await api.client.patch(url, json={"price": "18.00"}, headers={**headers, "If-Match": first_tag})
    assert patched.status_code == 200, patched.text
    assert patched.json()["price"] == "18.00"
    second_tag = patched.headers["etag"]
    assert second_tag != first_tag

    stale = await api.client.patch(url, json={"price": "1.00"}, headers={**headers, "If-Match": first_tag})
    assert_error(stale, 412, "PRECONDITION_FAILED")
    stale_put = await api.client.put(
        url,
        json={"title": "Kettle", "category": "kitchen", "price": "1.00", "stock": 1},
        headers={**headers, "If-Match": first_tag},
    )
    assert_error(stale_put, 412, "PRECONDITION_FAILED")
    assert (await api.client.get(url)).json()["price"] == "18.00"

    replaced = await api.client.put(
        url,
        json={"title": "Electric Kettle", "category": "kitchen", "price": "25.00", "stock": 2},
        headers={**headers, "If-Match": f'W/{second_tag}, "other"'},
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert body["title"] == "Electric Kettle"
    assert body["slug"] == "kettle"  # a title change keeps the slug
    assert body["description"] == ""
    any_version = await api.client.patch(url, json={"slug": "electric-kettle"}, headers={**headers, "If-Match": "*"})
    assert any_version.json()["slug"] == "electric-kettle"
    assert (await api.client.get("/api/v1/products/by-slug/electric-kettle")).status_code == 200
    assert_error(await api.client.get("/api/v1/products/by-slug/kettle"), 404, "NOT_FOUND")


async def test_update_conflicts_and_unknowns(api: Api, kitchen: dict[str, Any]) -> None:
    headers = await api.admin_headers()
    await api.product("kitchen", "Ladle")
    spoon = await api.product("kitchen", "Spoon")
    taken = await api.client.patch(f"/api/v1/products/{spoon['id']}", json={"slug": "ladle"}, headers=headers)
    assert_error(taken, 409, "CONFLICT")
    missing = await api.client.patch("/api/v1/products/2000000000", json={"stock": 1}, headers=headers)
    assert_error(missing, 404, "NOT_FOUND")
    unknown = await api.client.patch(f"/api/v1/products/{spoon['id']}", json={"category": "nope"}, headers=headers)
    assert_error(unknown, 422, "VALIDATION_ERROR")
    mass = await api.client.patch(f"/api/v1/products/{spoon['id']}", json={"created_at": "2020-01-01"}, headers=headers)
    assert_error(mass, 422, "VALIDATION_ERROR")


async def test_delete_erases_an_unreferenced_product(api: Api, kitchen: dict[str, Any]) -> None:
    product = await api.product("kitchen")
    url = f"/api/v1/products/{product['id']}"
    assert (await api.client.delete(url, headers=await api.admin_headers())).status_code == 204
    assert_error(await api.client.get(url), 404, "NOT_FOUND")


async def test_delete_archives_a_referenced_product(
    api: Api, kitchen: dict[str, Any], connection: AsyncConnection
) -> None:
    # Orders are not built yet; a table with the same kind of foreign key stands in.
    await connection.execute(text("CREATE TABLE order_refs (product_id INTEGER NOT NULL REFERENCES products(id))"))
    product = await api.product("kitchen", "Referenced Grater", description="grates cheese")
    await connection.execute(text("INSERT INTO order_refs VALUES (:id)"), {"id": product["id"]})

    url = f"/api/v1/products/{product['id']}"
    assert (await api.client.delete(url, headers=await api.admin_headers())).status_code == 204
    kept = await api.client.get(url)
    assert kept.status_code == 200
    assert kept.json()["title"] == "Referenced Grater"
    listing = (await api.client.get("/api/v1/products", params={"category": "kitchen"})).json()
    assert product["id"] not in [item["id"] for item in listing["items"]]
    found = (await api.client.get("/api/v1/products/search", params={"q": "grater"})).json()
    assert found["items"] == []


async def test_categories_crud(api: Api) -> None:
    headers = await api.admin_headers()
    created = await api.category("Garden Tools")
    assert created["slug"] == "garden-tools"
    assert_error(
        await api.client.post("/api/v1/categories", json={"name": "garden tools"}, headers=headers), 409, "CONFLICT"
    )
    assert_error(
        await api.client.post("/api/v1/categories", json={"name": "Other", "slug": "garden-tools"}, headers=headers),
        409,
        "CONFLICT",
    )
    listed = (await api.client.get("/api/v1/categories", params={"limit": 100})).json()
    assert created in listed["items"]

    product = await api.product("garden-tools", "Rake")
    assert (await api.client.get(f"/api/v1/products/{product['id']}")).json()["category"]["name"] == "Garden Tools"
    renamed = await api.client.patch(f"/api/v1/categories/{created['id']}", json={"name": "Garden"}, headers=headers)
    assert renamed.status_code == 200
    # The cached product shows the new category name at once.
    assert (await api.client.get(f"/api/v1/products/{product['id']}")).json()["category"]["name"] == "Garden"

    in_use = await api.client.delete(f"/api/v1/categories/{created['id']}", headers=headers)
    assert_error(in_use, 409, "CONFLICT")
    await api.client.delete(f"/api/v1/products/{product['id']}", headers=headers)
    assert (await api.client.delete(f"/api/v1/categories/{created['id']}", headers=headers)).status_code == 204
    assert_error(await api.client.delete(f"/api/v1/categories/{created['id']}", headers=headers), 404, "NOT_FOUND")


async def test_patch_null_leaves_a_field_unchanged(api: Api, kitchen: dict[str, Any]) -> None:
    # As in every PATCH of the API; a null title, price or slug answered 500 (found by ./dev fuzz).
    headers = await api.admin_headers()
    whisk = await api.product("kitchen", "Whisk")
    nulls = dict.fromkeys(("title", "slug", "price", "stock", "category", "description", "seo_keywords"))
    response = await api.client.patch(f"/api/v1/products/{whisk['id']}", json=nulls, headers=headers)
    assert response.status_code == 200, response.text
    after = response.json()
    for field in ("title", "slug", "price", "stock", "description", "seo_keywords"):
        assert after[field] == whisk[field], field
    assert after["category"]["slug"] == "kitchen"
