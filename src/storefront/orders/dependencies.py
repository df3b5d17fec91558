"""Orders at the edge: the service per unit of work, and the idempotent placement
that HTTP and MCP share."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.cache import CatalogCache
from storefront.catalog.inventory import Inventory
from storefront.config import Settings
from storefront.core.cache import Cache
from storefront.core.dependencies import SessionDep, StateDep
from storefront.core.idempotency import KEY_MAX_LENGTH, KEY_PATTERN, Answer, IdempotentCalls
from storefront.core.jobs import JobQueue
from storefront.core.state import AppState
from storefront.orders.schemas import OrderCreate, OrderRead, order_read
from storefront.orders.service import OrderLimits, OrderService

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=KEY_MAX_LENGTH,
        pattern=KEY_PATTERN,
        description="Retry-safe: the same key and body return the first response.",
    ),
]


def build_order_service(session: AsyncSession, cache: Cache, jobs: JobQueue, settings: Settings) -> OrderService:
    return OrderService(session, Inventory(session, CatalogCache(cache)), jobs, OrderLimits.from_settings(settings))


def order_service(state: AppState, session: AsyncSession) -> OrderService:
    """The service for one unit of work, wired from the process's clients."""
    return build_order_service(session, state.cache, state.jobs.queue, state.settings)


def idempotent_calls(state: AppState) -> IdempotentCalls:
    return IdempotentCalls(state.db, timedelta(hours=state.settings.idempotency_ttl_hours))


async def place_order(state: AppState, user_id: int, data: OrderCreate, key: str | None) -> Answer[OrderRead]:
    """Place a direct order, at most once per (user, key) when a key is given."""

    async def work(session: AsyncSession) -> OrderRead:
        return order_read(await order_service(state, session).place(user_id, data))

    return await idempotent_calls(state).run(user_id, key, "orders.place", data, OrderRead, work)


async def get_order_service(state: StateDep, session: SessionDep) -> OrderService:
    return order_service(state, session)


OrderServiceDep = Annotated[OrderService, Depends(get_order_service)]
