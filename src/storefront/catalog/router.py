"""HTTP routes of the catalog."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from pydantic import ValidationError

from storefront.catalog.dependencies import CategoryServiceDep, ProductServiceDep, ReaderDep
from storefront.catalog.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    ProductCreate,
    ProductFilters,
    ProductPatch,
    ProductRead,
    ProductReplace,
    ProductSort,
)
from storefront.catalog.service import SavedProduct
from storefront.core.dependencies import API_PREFIX, StateDep
from storefront.core.errors import InvalidInput
from storefront.core.pagination import Page, PageParamsDep
from storefront.core.params import ResourceId
from storefront.core.schemas import Slug
from storefront.fields import DecimalInput, free_text
from storefront.identity.dependencies import AdminUser

categories_router = APIRouter(prefix=f"{API_PREFIX}/categories", tags=["catalog"])
products_router = APIRouter(prefix=f"{API_PREFIX}/products", tags=["catalog"])

JSON = "application/json"
IfMatch = Annotated[str | None, Header(description="An ETag from a previous read; 412 when stale.")]
PriceQuery = Annotated[Decimal | None, Query(ge=0, max_digits=12, decimal_places=2), DecimalInput(10, 2)]

NAME_TAKEN: dict[int | str, dict[str, Any]] = {409: {"description": "A category with this name or slug exists"}}
SLUG_TAKEN: dict[int | str, dict[str, Any]] = {409: {"description": "A product with this slug exists"}}
STALE: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match names another version: the product changed since it was read"}
}


async def _filters(
    category: Annotated[Slug | None, Query(description="A category slug.")] = None,
    min_price: PriceQuery = None,
    max_price: PriceQuery = None,
    in_stock: bool | None = None,
) -> ProductFilters:
    try:
        return ProductFilters(category=category, min_price=min_price, max_price=max_price, in_stock=in_stock)
    except ValidationError as exc:
        raise InvalidInput("min_price", "must not exceed max_price") from exc


FiltersDep = Annotated[ProductFilters, Depends(_filters)]


def _json(body: bytes, tag: str | None = None, status_code: int = 200) -> Response:
    return Response(body, status_code=status_code, media_type=JSON, headers={"ETag": tag} if tag else None)


def _saved_response(saved: SavedProduct, status_code: int = 200) -> Response:
    response = _json(saved.read.model_dump_json().encode(), saved.etag, status_code)
    if status_code == status.HTTP_201_CREATED:
        response.headers["Location"] = f"{API_PREFIX}/products/{saved.read.id}"
    return response


# Categories


@categories_router.get("", response_model=Page[CategoryRead])
async def list_categories(service: CategoryServiceDep, page: PageParamsDep, state: StateDep) -> object:
    keyset = state.cursors.keyset("categories", page)
    rows = await service.list(keyset)
    return state.cursors.id_page("categories", rows, keyset, CategoryRead.model_validate)


@categories_router.post("", status_code=status.HTTP_201_CREATED, response_model=CategoryRead, responses=NAME_TAKEN)
async def create_category(body: CategoryCreate, _: AdminUser, service: CategoryServiceDep) -> object:
    return await service.create(body)


@categories_router.patch("/{category_id}", response_model=CategoryRead, responses=NAME_TAKEN)
async def update_category(
    category_id: ResourceId, body: CategoryUpdate, _: AdminUser, service: CategoryServiceDep
) -> object:
    return await service.update(category_id, body)


@categories_router.delete(
    "/{category_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "The category still has products"}},
)
async def delete_category(category_id: ResourceId, _: AdminUser, service: CategoryServiceDep) -> Response:
    await service.delete(category_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Products: reads return pre-serialised bytes (see reads.py); schemas document them.


@products_router.get("", response_model=Page[ProductRead])
async def list_products(
    reader: ReaderDep, filters: FiltersDep, page: PageParamsDep, sort: ProductSort = "-created_at"
) -> Response:
    return _json(await reader.listing(filters, sort, page))


@products_router.get("/search", response_model=Page[ProductRead], summary="Full-text search, best match first")
async def search_products(
    reader: ReaderDep,
    filters: FiltersDep,
    page: PageParamsDep,
    q: Annotated[
        str, Query(description='Web-search syntax: "phrase", -word, or.'), free_text(200, min_length=1, strip=False)
    ],
) -> Response:
    return _json(await reader.search(q, filters, page))


@products_router.get("/by-slug/{slug}", response_model=ProductRead)
async def read_product_by_slug(
    # A slug's shape: anything else names no product (and NUL reached PostgreSQL: a 500).
    slug: Annotated[Slug, Path(description="The product's slug.")],
    reader: ReaderDep,
) -> Response:
    tag, body = await reader.product_by_slug(slug)
    return _json(body, tag)


@products_router.get("/{product_id:int}", response_model=ProductRead)
async def read_product(product_id: ResourceId, reader: ReaderDep) -> Response:
    tag, body = await reader.product(product_id)
    return _json(body, tag)


@products_router.post("", status_code=status.HTTP_201_CREATED, response_model=ProductRead, responses=SLUG_TAKEN)
async def create_product(body: ProductCreate, _: AdminUser, service: ProductServiceDep) -> Response:
    return _saved_response(await service.create(body), status.HTTP_201_CREATED)


@products_router.put("/{product_id:int}", response_model=ProductRead, responses=SLUG_TAKEN | STALE)
async def replace_product(
    product_id: ResourceId,
    body: ProductReplace,
    _: AdminUser,
    service: ProductServiceDep,
    if_match: IfMatch = None,
) -> Response:
    return _saved_response(await service.replace(product_id, body, if_match))


@products_router.patch("/{product_id:int}", response_model=ProductRead, responses=SLUG_TAKEN | STALE)
async def patch_product(
    product_id: ResourceId,
    body: ProductPatch,
    _: AdminUser,
    service: ProductServiceDep,
    if_match: IfMatch = None,
) -> Response:
    return _saved_response(await service.patch(product_id, body, if_match))


@products_router.delete("/{product_id:int}", status_code=status.HTTP_204_NO_CONTENT, responses=STALE)
async def delete_product(
    product_id: ResourceId, _: AdminUser, service: ProductServiceDep, if_match: IfMatch = None
) -> Response:
    await service.delete(product_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
