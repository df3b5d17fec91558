"""`storefront ai fill`: fill every product missing content, a few at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from storefront.ai.errors import AiBudgetSpent, AiUnavailable
from storefront.ai.service import ContentService
from storefront.catalog.repository import CatalogRepository
from storefront.core.db import Database

BATCH = 500


@dataclass
class FillReport:
    filled: int = 0
    failed: list[int] = field(default_factory=list)
    providers: dict[str, int] = field(default_factory=dict)
    budget_spent: bool = False


async def batches_missing_content(db: Database) -> AsyncIterator[list[int]]:
    """Ids of live products with an empty description or no keywords, a batch at a time."""
    after = 0
    while True:
        async with db.session_scope(immediate=False) as session:
            rows = await CatalogRepository(session).live_content_after(after, BATCH)
        if not rows:
            return
        yield [product_id for product_id, description, keywords in rows if not description.strip() or not keywords]
        after = rows[-1][0]


async def count_missing(db: Database) -> int:
    return sum([len(batch) async for batch in batches_missing_content(db)])


async def fill_missing(
    db: Database, service: ContentService, concurrency: int, advance: Callable[[], None]
) -> FillReport:
    """Fill batch after batch; within a batch, ``concurrency`` products at once. The next
    batch is read only when this one is done, so reads never overlap the writes."""
    report = FillReport()
    slots = asyncio.Semaphore(concurrency)

    async def fill_one(product_id: int) -> None:
        async with slots:
            if not report.budget_spent:
                try:
                    outcome = await service.generate(product_id, mode="job")
                except AiBudgetSpent:
                    report.budget_spent = True  # every further call would be refused too
                except AiUnavailable:
                    report.failed.append(product_id)
                else:
                    if outcome.provider is not None:
                        report.filled += 1
                        report.providers[outcome.provider] = report.providers.get(outcome.provider, 0) + 1
            advance()

    async for batch in batches_missing_content(db):
        async with asyncio.TaskGroup() as group:
            for product_id in batch:
                group.create_task(fill_one(product_id))
        if report.budget_spent:
            break
    return report
