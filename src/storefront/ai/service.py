"""Use cases of AI content: fill a product's description and keywords.

A model call can take seconds, so no transaction stays open across it: the
product is read in one short unit of work, the chain runs outside any, and the
result is written in one unit of work (the product and the cache row together).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from storefront.ai.chain import ChainResult, ContentChain, Mode
from storefront.ai.content import GeneratedContent, ProductFacts
from storefront.ai.repository import ContentRepository
from storefront.catalog.cache import CatalogCache
from storefront.catalog.service import ProductService, content_missing
from storefront.core.db import Database

Field = Literal["description", "seo_keywords"]
FIELDS: tuple[Field, ...] = ("description", "seo_keywords")


@dataclass(frozen=True, slots=True)
class ContentOutcome:
    """The product's content after the use case, and who wrote it (None: nothing to fill)."""

    description: str
    seo_keywords: list[str]
    provider: str | None
    cached: bool = False


class ContentService:
    def __init__(self, db: Database, chain: ContentChain, cache: CatalogCache) -> None:
        self.db = db
        self.chain = chain
        self.cache = cache

    async def _facts(self, product_id: int, fields: Collection[Field], overwrite: bool) -> tuple[ProductFacts, bool]:
        async with self.db.session_scope(immediate=False) as session:
            product, category = await ProductService(session, self.cache).live_product(product_id)
            wanted = overwrite or any(content_missing(product, field) for field in fields)
            # A description being replaced is not a fact to keep; one being kept is.
            keep_description = "description" not in fields or not overwrite
            facts = ProductFacts(
                title=product.title,
                category=category.name,
                price=f"{product.price:.2f}",
                existing_description=product.description if keep_description else "",
            )
            return facts, wanted

    async def _produce(self, facts: ProductFacts, mode: Mode) -> ChainResult:
        """From the cache when this input was paid for before, else from the chain."""
        async with self.db.session_scope(immediate=False) as session:
            record = await ContentRepository(session).cached(facts.input_hash())
        if record is not None:
            content = GeneratedContent(description=record.description, seo_keywords=record.seo_keywords)
            return ChainResult(content, record.provider, remote=False, cached=True)
        return await self.chain.generate(facts, mode)

    async def generate(
        self, product_id: int, fields: Collection[Field] = FIELDS, *, overwrite: bool = False, mode: Mode = "request"
    ) -> ContentOutcome:
        facts, wanted = await self._facts(product_id, fields, overwrite)
        if not wanted:
            return await self._current(product_id)
        result = await self._produce(facts, mode)
        content = result.content
        async with self.db.session_scope() as session:
            if result.remote:
                # Only paid answers are kept: the offline text is free to make again, and
                # caching it would stop a provider configured later from ever being asked.
                await ContentRepository(session).remember(
                    facts.input_hash(), result.provider, content, result.input_tokens, result.output_tokens
                )
            generated = {"description": content.description, "seo_keywords": list(content.seo_keywords)}
            product = await ProductService(session, self.cache).fill_content(
                product_id, generated, fields, overwrite=overwrite
            )
            return ContentOutcome(product.description, list(product.seo_keywords), result.provider, result.cached)

    async def _current(self, product_id: int) -> ContentOutcome:
        async with self.db.session_scope(immediate=False) as session:
            product, _ = await ProductService(session, self.cache).live_product(product_id)
            return ContentOutcome(product.description, list(product.seo_keywords), None)
