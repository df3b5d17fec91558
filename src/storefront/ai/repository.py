"""Queries of AI content: the generation cache. No commits."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from storefront.ai.content import GeneratedContent
from storefront.ai.models import GeneratedContentRecord
from storefront.core.repository import Repository


class ContentRepository(Repository):
    async def cached(self, input_hash: str) -> GeneratedContentRecord | None:
        return await self.session.get(GeneratedContentRecord, input_hash)

    async def remember(
        self, input_hash: str, provider: str, content: GeneratedContent, input_tokens: int, output_tokens: int
    ) -> None:
        if await self.cached(input_hash) is not None:
            return
        record = GeneratedContentRecord(
            input_hash=input_hash,
            provider=provider,
            description=content.description,
            seo_keywords=content.seo_keywords,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(record)
        except IntegrityError:
            pass  # a concurrent run stored the same input first; its answer is as good
