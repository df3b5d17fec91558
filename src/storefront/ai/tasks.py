"""The background job that fills a new product's missing content."""

from __future__ import annotations

from typing import Any

import structlog

from storefront.ai.chain import ContentChain
from storefront.ai.errors import AiBudgetSpent
from storefront.ai.service import ContentService
from storefront.catalog.cache import CatalogCache
from storefront.catalog.errors import ProductNotFound
from storefront.catalog.service import GENERATE_CONTENT_JOB
from storefront.core.cache import Cache
from storefront.core.jobs import Handler, JobContext, RetryLater

log = structlog.get_logger("storefront.ai.tasks")


def ai_handlers(chain: ContentChain, cache: Cache) -> dict[str, Handler]:
    async def generate_content(ctx: JobContext, payload: dict[str, Any]) -> None:
        product_id = int(payload["product_id"])
        service = ContentService(ctx.db, chain, CatalogCache(cache))
        try:
            # Only empty fields are filled, so a second delivery changes nothing.
            outcome = await service.generate(product_id, mode="job")
        except ProductNotFound:
            return  # deleted before its content was written: nothing to do
        except AiBudgetSpent as exc:
            raise RetryLater("the daily AI token budget is spent") from exc
        # AiUnavailable propagates: the job system retries with backoff.
        log.info("ai_content_filled", product_id=product_id, provider=outcome.provider)

    return {GENERATE_CONTENT_JOB: generate_content}
