"""Stock, as a service of the catalog for orders and checkout: taken atomically for
every line or for none, given back once, and the live products a cart prices.

Stock is taken one product at a time in ascending id order. Each take is a
conditional UPDATE (``stock >= wanted``), so overselling is impossible under any
concurrency, and two orders over the same products lock them in the same order,
so they cannot deadlock. Quantities arrive merged per product (a product listed
twice is one take of the sum, never two takes that each pass the check). A
shortage raises, and the caller's unit of work rolls back every line already
taken. ``CHECK (stock >= 0)`` is the backstop.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.cache import CatalogCache
from storefront.catalog.errors import OutOfStock, ProductUnavailable
from storefront.catalog.repository import StockRepository
from storefront.core.db import after_commit


@dataclass(frozen=True, slots=True)
class ProductSnapshot:
    """A live product as a cart or checkout sees it now."""

    id: int
    slug: str
    title: str
    price: Decimal
    stock: int


@dataclass(frozen=True, slots=True)
class Taken:
    """One product's stock taken by an order, with the price and title at that moment."""

    product_id: int
    slug: str
    title: str
    unit_price: Decimal
    quantity: int
    stock_after: int
    low_stock_threshold: int

    @property
    def crossed_low_stock(self) -> bool:
        """Whether this take moved the product from at/above its threshold to below it."""
        before = self.stock_after + self.quantity
        return self.stock_after < self.low_stock_threshold <= before

    @property
    def sold_out(self) -> bool:
        return self.stock_after == 0


class Inventory:
    def __init__(self, session: AsyncSession, cache: CatalogCache) -> None:
        self.session = session
        self.stock = StockRepository(session)
        self.cache = cache

    async def take(self, wanted: Mapping[int, int]) -> list[Taken]:
        """Take ``wanted`` (product id → units, merged per product) or nothing at all."""
        taken: list[Taken] = []
        now = datetime.now(UTC)
        for product_id in sorted(wanted):
            quantity = wanted[product_id]
            row = await self.stock.take(product_id, quantity, now)
            if row is None:
                await self._refuse(wanted, {item.product_id: item.quantity for item in taken})
            else:
                taken.append(
                    Taken(product_id, row.slug, row.title, row.price, quantity, row.stock, row.low_stock_threshold)
                )
        self._forget_after_commit([(item.product_id, item.slug) for item in taken])
        return taken

    async def _refuse(self, wanted: Mapping[int, int], already: Mapping[int, int]) -> None:
        rows = await self.stock.stock_rows(wanted.keys())
        for product_id in sorted(wanted):
            row = rows.get(product_id)
            if row is None or row.archived_at is not None:
                raise ProductUnavailable(product_id)
        shortages = []
        for product_id in sorted(wanted):
            # Lines this unit of work already took count as available: the rollback returns them.
            available = rows[product_id].stock + already.get(product_id, 0)
            if wanted[product_id] > available:
                shortages.append({"product_id": product_id, "requested": wanted[product_id], "available": available})
        raise OutOfStock(shortages)

    async def give_back(self, quantities: Mapping[int, int]) -> None:
        """Return stock (an order cancelled, expired or refunded with restock)."""
        now = datetime.now(UTC)
        touched = []
        for product_id in sorted(quantities):
            slug = await self.stock.give_back(product_id, quantities[product_id], now)
            if slug is not None:
                touched.append((product_id, slug))
        self._forget_after_commit(touched)

    async def live_products(self, product_ids: Collection[int]) -> dict[int, ProductSnapshot]:
        """The live (not archived) products among ``product_ids``, at their current prices."""
        if not product_ids:
            return {}
        rows = await self.stock.stock_rows(product_ids)
        return {
            row.id: ProductSnapshot(row.id, row.slug, row.title, row.price, row.stock)
            for row in rows.values()
            if row.archived_at is None
        }

    def _forget_after_commit(self, products: list[tuple[int, str]]) -> None:
        # Cached products show stock: forget them once the new stock is committed.
        if products:
            cache = self.cache
            after_commit(self.session, lambda: cache.invalidate(products))
