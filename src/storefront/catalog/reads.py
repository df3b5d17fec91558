"""The catalog's read paths: cached, transaction-free, serialised once.

Reads run as single statements on an autocommit connection (no BEGIN/COMMIT
round trips) and produce the response bytes, which is also what the cache keeps:
a cache hit touches neither the database nor Pydantic.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any, Protocol

from storefront.catalog import repository
from storefront.catalog.cache import CatalogCache, etag
from storefront.catalog.errors import ProductNotFound
from storefront.catalog.schemas import ProductFilters, encode_json, product_json
from storefront.catalog.search import SearchBackend
from storefront.catalog.search_syntax import SearchQuery, with_alternatives
from storefront.core.db import Database
from storefront.core.pagination import CursorCodec, PageParams, split_page
from storefront.core.sqltypes import AnyRow, AnySelect


def _encode_product(row: AnyRow) -> bytes:
    return etag(row.id, row.version).encode() + b"\n" + encode_json(product_json(row))


def split_cached(value: bytes) -> tuple[str, bytes]:
    """(ETag, JSON body) of a cached product."""
    tag, _, body = value.partition(b"\n")
    return tag.decode(), body


class QueryExpansion(Protocol):
    """Other phrasings of a query (``storefront.ai.expansion``); () when there are none."""

    async def alternatives(self, query: SearchQuery, *, ask: bool = True) -> tuple[tuple[str, ...], ...]: ...


class ProductReader:
    def __init__(
        self,
        db: Database,
        cache: CatalogCache,
        cursors: CursorCodec,
        search_backend: SearchBackend,
        expansion: QueryExpansion | None = None,
    ) -> None:
        self.db = db
        self.cache = cache
        self.cursors = cursors
        self.search_backend = search_backend
        self.expansion = expansion

    async def _one(self, statement: AnySelect, params: dict[str, Any] | None = None) -> AnyRow | None:
        async with self.db.reader() as connection:
            return (await connection.execute(statement, params)).first()

    async def _all(self, statement: AnySelect, params: dict[str, Any]) -> list[AnyRow]:
        async with self.db.reader() as connection:
            return list((await connection.execute(statement, params)).all())

    async def _cached_product(self, cached: bytes | None, statement: AnySelect, key: int | str) -> tuple[str, bytes]:
        if cached is None:
            row = await self._one(statement, {"key": key})
            if row is None:
                raise ProductNotFound(key)
            cached = _encode_product(row)
            if self.cache.enabled:
                await self.cache.store_product(row.id, row.slug, cached)
        return split_cached(cached)

    async def product(self, product_id: int) -> tuple[str, bytes]:
        cached = await self.cache.product(product_id) if self.cache.enabled else None
        return await self._cached_product(cached, repository.PRODUCT_BY_ID, product_id)

    async def product_by_slug(self, slug: str) -> tuple[str, bytes]:
        cached = await self.cache.product_by_slug(slug) if self.cache.enabled else None
        return await self._cached_product(cached, repository.PRODUCT_BY_SLUG, slug)

    def _page(self, rows: list[AnyRow], page: PageParams, scope: str, position: Any) -> bytes:
        items, last = split_page(rows, page.limit, position)
        # Page[ProductRead]'s JSON (see product_json).
        return encode_json(
            {
                "items": [product_json(row) for row in items],
                "next_cursor": self.cursors.encode(scope, last) if last else None,
            }
        )

    async def listing(self, filters: ProductFilters, sort: str, page: PageParams) -> bytes:
        scope = f"products:{sort}"
        after = self.cursors.decode(scope, page.cursor) if page.cursor else None
        # Only first pages are cached: they are what most visitors ask for.
        key = None
        if self.cache.enabled and after is None and not page.offset:
            key = await self.cache.listing_key(filters, sort, page.limit)
            cached = await self.cache.listing(key)
            if cached is not None:
                return cached
        rows = await self._all(*repository.listing(filters, sort, page.limit + 1, after, page.offset))
        body = self._page(rows, page, scope, partial(repository.sort_position, sort))
        if key is not None:
            await self.cache.store_listing(key, body)
        return body

    async def search(self, text: str, filters: ProductFilters, page: PageParams) -> bytes:
        scope = "search"
        after = self.cursors.decode(scope, page.cursor) if page.cursor else None
        first_page = after is None and not page.offset
        query, sort = None, f"search:{text}"
        if self.expansion is not None:
            # Resolved before the page cache: an expanded page is cached under a key that
            # names its alternatives, so expanded and plain results never meet. Later
            # pages use a cached expansion only, never a model call.
            query = self.search_backend.parse(text)
            alternatives = await self.expansion.alternatives(query, ask=first_page)
            if alternatives:
                query = with_alternatives(query, alternatives)
                sort = f"search{json.dumps(alternatives, separators=(',', ':'))}:{text}"
        # First pages of searches are cached like listings: popular queries repeat,
        # and any product write retires them (the listing generation).
        key = None
        if self.cache.enabled and first_page:
            key = await self.cache.listing_key(filters, sort, page.limit)
            cached = await self.cache.listing(key)
            if cached is not None:
                return cached
        async with self.db.reader() as connection:
            rows = await self.search_backend.search(
                connection,
                self.search_backend.parse(text) if query is None else query,
                filters,
                page.limit + 1,
                after,
                page.offset,
            )
        body = self._page(rows, page, scope, lambda row: [row.score, row.id])
        if key is not None:
            await self.cache.store_listing(key, body)
        return body
