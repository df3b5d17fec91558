"""Catalog write use cases, inside the caller's unit of work: categories; products
(create, replace, patch, delete or archive); and the content other domains fill in
(AI descriptions) written through here, so the catalog alone writes its tables."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from storefront.catalog.cache import CatalogCache, etag
from storefront.catalog.errors import (
    CategoryInUse,
    CategoryNotFound,
    CategoryTaken,
    ProductNotFound,
    SlugTaken,
    UnknownCategory,
)
from storefront.catalog.models import Category, Product
from storefront.catalog.repository import CatalogRepository
from storefront.catalog.schemas import (
    CategoryCreate,
    CategoryUpdate,
    ProductCreate,
    ProductPatch,
    ProductRead,
    ProductReplace,
    product_read,
)
from storefront.catalog.slugs import slug_from
from storefront.core.db import after_commit
from storefront.core.errors import Conflict, InvalidInput, PreconditionFailed
from storefront.core.jobs import JobQueue
from storefront.core.pagination import IdKeyset

# The job that fills a new product's missing content; the AI domain handles it.
GENERATE_CONTENT_JOB = "ai.generate_product_content"


class CategoryService:
    def __init__(self, session: AsyncSession, cache: CatalogCache) -> None:
        self.session = session
        self.repository = CatalogRepository(session)
        self.cache = cache

    async def list(self, keyset: IdKeyset) -> Sequence[Category]:
        return await self.repository.categories(keyset)

    async def _check_unique(self, name: str | None, slug: str | None, exclude: int | None = None) -> None:
        if await self.repository.category_name_or_slug_taken(name, None, exclude):
            raise Conflict(f"A category named '{name}' already exists")
        if slug is not None and await self.repository.category_name_or_slug_taken(None, slug, exclude):
            raise SlugTaken("category", slug)

    async def create(self, data: CategoryCreate) -> Category:
        slug = data.slug or slug_from(data.name, "name", max_length=120)
        await self._check_unique(data.name, slug)
        category = Category(name=data.name, slug=slug)
        try:
            await self.repository.add(category)
        except IntegrityError as exc:  # a concurrent create, or a name only the unique index tells apart
            raise CategoryTaken() from exc
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
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise CategoryTaken() from exc
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


def matches_if_match(if_match: str | None, current: str) -> bool:
    if if_match is None:
        return True
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    return "*" in candidates or current in candidates


def content_missing(product: Product, field: str) -> bool:
    """Whether a generated-content field (``description``, ``seo_keywords``) is empty:
    a blank description, or no keywords. The rule AI content fills by."""
    return not (product.description.strip() if field == "description" else product.seo_keywords)


class SavedProduct:
    """A product as written by this unit of work: its representation and ETag."""

    def __init__(self, read: ProductRead, tag: str) -> None:
        self.read = read
        self.etag = tag


class ProductService:
    def __init__(self, session: AsyncSession, cache: CatalogCache, jobs: JobQueue | None = None) -> None:
        self.session = session
        self.repository = CatalogRepository(session)
        self.cache = cache
        # Where `generate_content` sends its job; without a queue, asking for it is refused.
        self.jobs = jobs

    async def _category_id(self, slug: str) -> int:
        category = await self.repository.category_by_slug(slug)
        if category is None:
            raise UnknownCategory(slug)
        return category.id

    async def _claim_slug(self, slug: str, exclude: int | None = None) -> str:
        if await self.repository.product_slug_taken(slug, exclude):
            raise SlugTaken("product", slug)
        return slug

    def _forget_after_commit(self, *products: tuple[int, str]) -> None:
        after_commit(self.session, lambda: self.cache.invalidate(products))

    async def _saved(self, product: Product) -> SavedProduct:
        category = await self.session.get_one(Category, product.category_id)
        return SavedProduct(product_read(product, category), etag(product.id, product.version))

    async def create(self, data: ProductCreate) -> SavedProduct:
        product = Product(
            title=data.title,
            slug=await self._claim_slug(data.slug or slug_from(data.title, "title")),
            description=data.description,
            category_id=await self._category_id(data.category),
            price=data.price,
            stock=data.stock,
            low_stock_threshold=data.low_stock_threshold,
            seo_keywords=data.seo_keywords,
        )
        try:
            await self.repository.add(product)
        except IntegrityError as exc:  # a concurrent create took the slug first
            raise SlugTaken("product", product.slug) from exc
        self._forget_after_commit((product.id, product.slug))
        if data.generate_content:
            self._enqueue_content(product.id)
        return await self._saved(product)

    def _enqueue_content(self, product_id: int) -> None:
        if self.jobs is None:
            raise InvalidInput("generate_content", "content generation is not available here")
        # The job row joins this unit of work: it exists exactly when the product does.
        self.jobs.enqueue(self.session, GENERATE_CONTENT_JOB, {"product_id": product_id}, max_attempts=5)

    async def _for_update(self, product_id: int, if_match: str | None) -> Product:
        product = await self.repository.product(product_id)
        if product is None:
            raise ProductNotFound(product_id)
        if not matches_if_match(if_match, etag(product.id, product.version)):
            raise PreconditionFailed("The product has changed since it was read; fetch it again")
        return product

    async def _apply(self, product: Product, changes: dict[str, Any]) -> SavedProduct:
        old_slug = product.slug
        if "slug" in changes:
            product.slug = await self._claim_slug(changes.pop("slug"), exclude=product.id)
        if "category" in changes:
            product.category_id = await self._category_id(changes.pop("category"))
        for field, value in changes.items():
            setattr(product, field, value)
        try:
            await self.session.flush()
        except StaleDataError as exc:  # another writer bumped the version between read and write
            raise PreconditionFailed("The product was changed concurrently; fetch it again") from exc
        except IntegrityError as exc:
            raise SlugTaken("product", product.slug) from exc
        self._forget_after_commit((product.id, old_slug), (product.id, product.slug))
        return await self._saved(product)

    async def replace(self, product_id: int, data: ProductReplace, if_match: str | None) -> SavedProduct:
        product = await self._for_update(product_id, if_match)
        changes = data.model_dump()
        if changes["slug"] is None:  # a title change keeps the slug unless one is given
            del changes["slug"]
        return await self._apply(product, changes)

    async def patch(self, product_id: int, data: ProductPatch, if_match: str | None) -> SavedProduct:
        product = await self._for_update(product_id, if_match)
        # null leaves a field as it is, as in every PATCH of the API (no product field can be
        # empty: a null title or price reached the database and answered 500; ./dev fuzz).
        changes = {field: value for field, value in data.model_dump(exclude_unset=True).items() if value is not None}
        return await self._apply(product, changes)

    async def delete(self, product_id: int, if_match: str | None = None) -> None:
        """Erase a product nothing references; archive one that orders still need."""
        product = await self._for_update(product_id, if_match)
        try:
            async with self.session.begin_nested():
                await self.session.delete(product)
                await self.session.flush()
        except IntegrityError:
            # Order lines reference it (foreign key RESTRICT): keep it for their history.
            product = await self._for_update(product_id, None)
            product.archived_at = datetime.now(UTC)
            await self.session.flush()
        self._forget_after_commit((product.id, product.slug))

    async def live_product(self, product_id: int) -> tuple[Product, Category]:
        """A live product and its category, for another domain to read (AI content)."""
        product = await self.repository.product(product_id)
        if product is None or product.archived_at is not None:
            raise ProductNotFound(product_id)
        return product, await self.session.get_one(Category, product.category_id)

    async def fill_content(
        self, product_id: int, content: dict[str, Any], fields: Collection[str], *, overwrite: bool
    ) -> Product:
        """Write generated content (``description``, ``seo_keywords``) into a live product:
        only the ``fields`` asked for, and without ``overwrite`` only where they are empty."""
        product, _ = await self.live_product(product_id)
        changed = False
        for field in fields:
            if field in content and (overwrite or content_missing(product, field)):
                setattr(product, field, content[field])
                changed = True
        try:
            await self.session.flush()
        except StaleDataError as exc:
            raise Conflict("The product changed while its content was generated; try again") from exc
        if changed:
            self._forget_after_commit((product.id, product.slug))
        return product
