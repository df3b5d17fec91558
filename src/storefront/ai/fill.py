"""`storefront ai fill`: fill every product missing content, a few at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from storefront.ai.errors import AiBudgetSpent, AiUnavailable
from storefront.ai.repository import ContentRepository
from storefront.ai.service import ContentService
from storefront.core.db import Database

BATCH = 500


@dataclass
class FillReport:
    filled: int = 0
    failed: list[int] = field(default_factory=list)
    providers: dict[str, int] = field(default_factory=dict)
    budget_spent: bool = False


async def products_missing_content(db: Database) -> AsyncIterator[int]:
    after = 0
    while True:
        async with db.session_scope() as session:
            rows = await ContentRepository(session).products_after(after, BATCH)
        if not rows:
            return
        for product_id, description, keywords in rows:
            if not description.strip() or not keywords:
                yield product_id
        after = rows[-1][0]


async def count_missing(db: Database) -> int:
    return sum([1 async for _ in products_missing_content(db)])


async def fill_missing(
    db: Database, service: ContentService, concurrency: int, advance: Callable[[], None]
) -> FillReport:
    report = FillReport()
    queue: asyncio.Queue[int] = asyncio.Queue(maxsize=concurrency * 2)
    stop = asyncio.Event()

    async def worker() -> None:
        while (product_id := await queue.get()) > 0:
            if not stop.is_set():
                await fill_one(product_id)
            advance()

    async def fill_one(product_id: int) -> None:
        try:
            outcome = await service.generate(product_id, mode="job")
        except AiBudgetSpent:
            report.budget_spent = True
            stop.set()  # every further call would be refused too
            return
        except AiUnavailable:
            report.failed.append(product_id)
            return
        if outcome.provider is not None:
            report.filled += 1
            report.providers[outcome.provider] = report.providers.get(outcome.provider, 0) + 1

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
        async for product_id in products_missing_content(db):
            await queue.put(product_id)
        for _ in range(concurrency):
            await queue.put(0)  # ids start at 1: 0 tells a worker to stop
    return report
