"""Catalog queries: Core statements for the read paths, ORM for writes. No commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Integer, bindparam, func, or_, select, tuple_, update

from storefront.catalog.models import Category, Product
from storefront.catalog.schemas import ProductFilters
from storefront.core.pagination import IdKeyset
from storefront.core.repository import Repository, run_prebuilt, table_of
from storefront.core.sqltypes import AnyRow, AnySelect

_SORT_KEYS: dict[str, Any] = {"created_at": Product.created_at, "price": Product.price, "title": Product.title}


def product_columns() -> AnySelect:
    return select(
        Product.id,
        Product.slug,
        Product.title,
        Product.description,
        Product.price.label("price"),
        Product.stock,
        Product.low_stock_threshold,
        Product.seo_keywords,
        Product.created_at,
        Product.updated_at,
        Product.version,
        Category.id.label("category_id"),
        Category.name.label("category_name"),
        Category.slug.label("category_slug"),
    ).join(Category, Category.id == Product.category_id)


# Built once: constructing a Select costs more than the primary-key lookup it runs
# (measured ~400 µs against ~300 µs), and a reused statement hits the compiled cache.
PRODUCT_BY_ID = product_columns().where(Product.id == bindparam("key"))
PRODUCT_BY_SLUG = product_columns().where(Product.slug == bindparam("key"))


def filtered(statement: AnySelect, filters: ProductFilters) -> AnySelect:
    """Live products matching ``filters``, each value a bound parameter (``filter_params``):
    the statement's shape depends only on which filters are set, so it can be built once."""
    statement = statement.where(Product.archived_at.is_(None))
    if filters.category is not None:
        # A scalar subquery runs once, then the (category_id, sort key, id) index drives the scan.
        category_id = select(Category.id).where(Category.slug == bindparam("category")).scalar_subquery()
        statement = statement.where(Product.category_id == category_id)
    if filters.min_price is not None:
        statement = statement.where(Product.price >= bindparam("min_price"))
    if filters.max_price is not None:
        statement = statement.where(Product.price <= bindparam("max_price"))
    if filters.in_stock is not None:
        statement = statement.where(Product.stock > 0 if filters.in_stock else Product.stock == 0)
    return statement


def filter_params(filters: ProductFilters) -> dict[str, Any]:
    """The values ``filtered`` binds."""
    values = {"category": filters.category, "min_price": filters.min_price, "max_price": filters.max_price}
    return {name: value for name, value in values.items() if value is not None}


def sort_position(sort: str, row: AnyRow) -> list[Any]:
    value = getattr(row, sort.lstrip("-"))
    return [str(value) if isinstance(value, Decimal) else value, row.id]


def _decode_sort_value(sort: str, value: Any) -> Any:
    key = sort.lstrip("-")
    if key == "created_at":
        return datetime.fromisoformat(value)
    if key == "price":
        return Decimal(value)
    return str(value)


@cache
def _listing_statement(sort: str, filters: ProductFilters, after: bool, offset: bool) -> AnySelect:
    """The listing's statement for one shape (sort, which filters, cursor or offset or neither),
    built once: building and coercing a Select cost about as much as running it. ``filters``
    here only says which are set (see ``filter_shape``); values are bound at execution."""
    key = _SORT_KEYS[sort.lstrip("-")]
    descending = sort.startswith("-")
    statement = filtered(product_columns(), filters)
    if after:
        position = tuple_(bindparam("after_key", type_=key.type), bindparam("after_id", type_=Integer))
        current = tuple_(key, Product.id)
        statement = statement.where(current < position if descending else current > position)
    order = (key.desc(), Product.id.desc()) if descending else (key.asc(), Product.id.asc())
    statement = statement.order_by(*order).limit(bindparam("limit", type_=Integer))
    return statement.offset(bindparam("offset", type_=Integer)) if offset else statement


def filter_shape(filters: ProductFilters) -> ProductFilters:
    """Which filters are set, with placeholder values: the cache key of a statement's shape."""
    return ProductFilters.model_construct(
        category="" if filters.category is not None else None,
        min_price=Decimal(0) if filters.min_price is not None else None,
        max_price=Decimal(0) if filters.max_price is not None else None,
        in_stock=filters.in_stock,
    )


def listing(
    filters: ProductFilters, sort: str, limit: int, after: list[Any] | None, offset: int | None
) -> tuple[AnySelect, dict[str, Any]]:
    """One page of live products by keyset on (sort key, id): same cost at any depth.
    The statement (built once per shape) and the values to execute it with."""
    statement = _listing_statement(sort, filter_shape(filters), after is not None, bool(offset))
    params = filter_params(filters) | {"limit": limit}
    if after is not None:
        params |= {"after_key": _decode_sort_value(sort, after[0]), "after_id": int(after[1])}
    if offset:
        params["offset"] = offset
    return statement, params


class CatalogRepository(Repository):
    """The write side, through the unit of work's session."""

    async def category(self, category_id: int) -> Category | None:
        return await self.session.get(Category, category_id)

    async def category_by_slug(self, slug: str) -> Category | None:
        return await self.session.scalar(select(Category).where(Category.slug == slug))

    async def categories(self, keyset: IdKeyset) -> Sequence[Category]:
        return (await self.session.scalars(keyset.apply(select(Category), Category.id, newest_first=False))).all()

    async def category_name_or_slug_taken(self, name: str | None, slug: str | None, exclude: int | None) -> bool:
        conditions = []
        if name is not None:
            conditions.append(func.lower(Category.name) == name.lower())
        if slug is not None:
            conditions.append(Category.slug == slug)
        if not conditions:
            return False
        statement = select(Category.id).where(or_(*conditions))
        if exclude is not None:
            statement = statement.where(Category.id != exclude)
        return await self.session.scalar(statement.limit(1)) is not None

    async def category_has_products(self, category_id: int) -> bool:
        found = await self.session.scalar(select(Product.id).where(Product.category_id == category_id).limit(1))
        return found is not None

    async def product_ids_in_category(self, category_id: int) -> Sequence[tuple[int, str]]:
        rows = await self.session.execute(select(Product.id, Product.slug).where(Product.category_id == category_id))
        return [(row.id, row.slug) for row in rows]

    async def live_content_after(self, after_id: int, limit: int) -> Sequence[tuple[int, str, list[str]]]:
        """Live products by id after ``after_id`` with their description and keywords (for AI fill)."""
        rows = await self.session.execute(
            select(Product.id, Product.description, Product.seo_keywords)
            .where(Product.id > after_id, Product.archived_at.is_(None))
            .order_by(Product.id)
            .limit(limit)
        )
        return [(row.id, row.description, row.seo_keywords) for row in rows]

    async def product(self, product_id: int) -> Product | None:
        return await self.session.get(Product, product_id)

    async def product_slug_taken(self, slug: str, exclude: int | None = None) -> bool:
        statement = select(Product.id).where(Product.slug == slug)
        if exclude is not None:
            statement = statement.where(Product.id != exclude)
        return await self.session.scalar(statement.limit(1)) is not None


# Built once, every value a bound parameter: building the UPDATE and its cache key per
# call cost more CPU than running it (docs/performance.md, issue 16 row 4).
_PRODUCTS = table_of(Product).c
_QUANTITY = bindparam("quantity", type_=Integer)
_TAKE = (
    update(table_of(Product))
    .where(_PRODUCTS.id == bindparam("product_id"), _PRODUCTS.archived_at.is_(None), _PRODUCTS.stock >= _QUANTITY)
    .values(stock=_PRODUCTS.stock - _QUANTITY, version=_PRODUCTS.version + 1, updated_at=bindparam("now"))
    .returning(
        _PRODUCTS.slug,
        _PRODUCTS.title,
        _PRODUCTS.price_cents.label("price"),
        _PRODUCTS.stock,
        _PRODUCTS.low_stock_threshold,
    )
)


class StockRepository(Repository):
    """Stock movements on ``products``: conditional UPDATEs, one product at a time. No commits."""

    async def take(self, product_id: int, quantity: int, now: datetime) -> AnyRow | None:
        """Decrement a live product's stock if at least ``quantity`` is left; the row after, or None.

        The ``stock >= quantity`` condition makes overselling impossible under any
        concurrency: PostgreSQL re-checks it against the newest row version after
        waiting for a concurrent writer, and SQLite has one writer at a time.
        """
        params = {"product_id": product_id, "quantity": quantity, "now": now}
        return (await run_prebuilt(self.session, _TAKE, params)).first()

    async def give_back(self, product_id: int, quantity: int, now: datetime) -> str | None:
        """Return stock to a product (archived ones too); its slug, or None if it is gone."""
        slug: str | None = await self.session.scalar(
            update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantity, version=Product.version + 1, updated_at=now)
            .returning(Product.slug)
            .execution_options(synchronize_session=False)
        )
        return slug

    async def stock_rows(self, product_ids: Collection[int]) -> dict[int, AnyRow]:
        """Id, slug, title, price, stock and archived_at of these products (archived included)."""
        rows = await self.session.execute(
            select(Product.id, Product.slug, Product.title, Product.price, Product.stock, Product.archived_at).where(
                Product.id.in_(list(product_ids))
            )
        )
        return {row.id: row for row in rows}
