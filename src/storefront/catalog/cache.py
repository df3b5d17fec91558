"""What the catalog caches, under which keys, and how writes invalidate it.

Products are cached by id and by slug as ready-to-send bytes (ETag line, then
JSON). First pages of listings are cached under a generation number that every
product write bumps, so one increment retires them all, in every process.
"""

from __future__ import annotations

from collections.abc import Iterable

from storefront.catalog.schemas import ProductFilters
from storefront.core.cache import Cache

_GENERATION = "catalog:listing-generation"


def etag(product_id: int, version: int) -> str:
    return f'"{product_id}-{version}"'


class CatalogCache:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    @property
    def enabled(self) -> bool:
        return self.cache.enabled

    async def product(self, product_id: int) -> bytes | None:
        return await self.cache.get(f"product:{product_id}")

    async def product_by_slug(self, slug: str) -> bytes | None:
        return await self.cache.get(f"product-slug:{slug}")

    async def store_product(self, product_id: int, slug: str, value: bytes) -> None:
        await self.cache.set(f"product:{product_id}", value)
        await self.cache.set(f"product-slug:{slug}", value)

    async def listing_key(self, filters: ProductFilters, sort: str, limit: int) -> str:
        generation = await self.cache.get_int(_GENERATION)
        return f"listing:{generation}:{filters.cache_key()}|{sort}|{limit}"

    async def listing(self, key: str) -> bytes | None:
        return await self.cache.get(key)

    async def store_listing(self, key: str, value: bytes) -> None:
        await self.cache.set(key, value)

    async def invalidate(self, products: Iterable[tuple[int, str]]) -> None:
        """Forget these products (id, slug) and every cached listing page."""
        keys = [key for product_id, slug in products for key in (f"product:{product_id}", f"product-slug:{slug}")]
        await self.cache.delete(*keys)
        await self.cache.incr(_GENERATION)
