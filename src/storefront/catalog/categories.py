"""Category use cases."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.cache import CatalogCache
from storefront.catalog.errors import CategoryInUse, CategoryNotFound, SlugTaken
from storefront.catalog.models import Category
from storefront.catalog.repository import CatalogRepository
from storefront.catalog.schemas import CategoryCreate, CategoryUpdate
from storefront.catalog.slugs import slug_from
from storefront.core.db import after_commit
from storefront.core.errors import Conflict


class CategoryService:
    def __init__(self, session: AsyncSession, cache: CatalogCache) -> None:
        self.session = session
        self.repository = CatalogRepository(session)
        self.cache = cache

    async def list(self, after_id: int | None, limit: int, offset: int | None) -> Sequence[Category]:
        return await self.repository.categories(after_id, limit, offset)

    async def _check_unique(self, name: str | None, slug: str | None, exclude: int | None = None) -> None:
        if await self.repository.category_name_or_slug_taken(name, None, exclude):
            raise Conflict(f"A category named '{name}' already exists")
        if slug is not None and await self.repository.category_name_or_slug_taken(None, slug, exclude):
            raise SlugTaken("category", slug)

    async def create(self, data: CategoryCreate) -> Category:
        slug = data.slug or slug_from(data.name, "name", max_length=120)
        await self._check_unique(data.name, slug)
        category = Category(name=data.name, slug=slug)
        await self.repository.add(category)
        return category

    async def update(self, category_id: int, data: CategoryUpdate) -> Category:
        category = await self.repository.category(category_id)
        if category is None:
            raise CategoryNotFound(category_id)
        await self._check_unique(data.name, data.slug, exclude=category_id)
        if data.name is not None:
            category.name = data.name
        if data.slug is not None:
            category.slug = data.slug
        await self.session.flush()
        # Cached products embed their category: forget every product of this one.
        products = await self.repository.product_ids_in_category(category_id)
        after_commit(self.session, lambda: self.cache.invalidate(products))
        return category

    async def delete(self, category_id: int) -> None:
        category = await self.repository.category(category_id)
        if category is None:
            raise CategoryNotFound(category_id)
        if await self.repository.category_has_products(category_id):
            raise CategoryInUse(category.slug)
        await self.session.delete(category)
        await self.session.flush()
