"""Order use cases for every entry point (HTTP, MCP, CLI); each owns its units of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.cache import CatalogCache
from storefront.core.db import Database
from storefront.core.jobs import JobQueue
from storefront.orders.checkout import Checkout, OrderLimits
from storefront.orders.errors import OrderNotFound
from storefront.orders.idempotency import Idempotency, StoredResponse, request_hash
from storefront.orders.lifecycle import OrderLifecycle
from storefront.orders.models import Order
from storefront.orders.repository import OrderRepository, order_read
from storefront.orders.schemas import OrderCreate

if TYPE_CHECKING:
    from storefront.core.state import AppState


class OrderService:
    def __init__(
        self, db: Database, jobs: JobQueue, cache: CatalogCache, limits: OrderLimits, idempotency_ttl: timedelta
    ) -> None:
        self.db = db
        self.jobs = jobs
        self.cache = cache
        self.limits = limits
        self.idempotency = Idempotency(db, idempotency_ttl)

    @classmethod
    def for_state(cls, state: AppState) -> OrderService:
        """The service every entry point (HTTP, MCP) uses, wired from the app's clients."""
        return cls(
            state.db,
            state.jobs.queue,
            CatalogCache(state.cache),
            OrderLimits.from_settings(state.settings),
            timedelta(hours=state.settings.idempotency_ttl_hours),
        )

    async def place(self, user_id: int, data: OrderCreate, idempotency_key: str | None = None) -> StoredResponse:
        """Place an order; with a key, at most once per (user, key)."""

        async def work(session: AsyncSession) -> tuple[int, bytes]:
            order = await Checkout(session, self.jobs, self.cache, self.limits).place(user_id, data)
            return 201, order_read(order).model_dump_json().encode()

        if idempotency_key is None:
            async with self.db.session_scope() as session:
                status, body = await work(session)
            return StoredResponse(status, body, replayed=False)
        fingerprint = request_hash(data.model_dump(mode="json"))
        return await self.idempotency.run(user_id, idempotency_key, fingerprint, work)


class OrderQueries:
    """Reads and status changes inside the caller's unit of work."""

    def __init__(self, session: AsyncSession, cache: CatalogCache) -> None:
        self.repository = OrderRepository(session)
        self.lifecycle = OrderLifecycle(session, cache)

    async def get(self, order_id: int, owner_id: int | None) -> Order:
        order = await self.repository.get(order_id, owner_id)
        if order is None:
            raise OrderNotFound(order_id)
        return order

    async def list(
        self, user_id: int | None, status: str | None, before_id: int | None, limit: int, offset: int | None
    ) -> Sequence[Order]:
        return await self.repository.list(user_id, status, before_id, limit, offset)

    async def cancel(self, order_id: int, owner_id: int | None) -> Order:
        return await self.lifecycle.cancel(order_id, owner_id)

    async def change_status(self, order_id: int, target: str) -> Order:
        return await self.lifecycle.change_status(order_id, target)
