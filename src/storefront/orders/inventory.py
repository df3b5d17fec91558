"""Stock: taken atomically for every line of an order or for none, given back once.

Each product's stock is decremented by one conditional UPDATE (``stock >= wanted``)
in ascending product id order. The condition makes overselling impossible under
any concurrency (PostgreSQL re-checks it against the newest row version after
waiting for a concurrent writer); the fixed order means two orders over the same
products lock them in the same order and cannot deadlock. ``CHECK (stock >= 0)``
is the backstop. A shortage raises, and the unit of work rolls back every line
already taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.models import Product
from storefront.orders.errors import OutOfStock, ProductUnavailable


@dataclass(frozen=True, slots=True)
class Taken:
    product_id: int
    slug: str
    title: str
    unit_price: Decimal
    quantity: int
    stock_after: int
    low_stock_threshold: int

    @property
    def crossed_low_stock(self) -> bool:
        """Whether this order took the product from at/above its threshold to below it."""
        before = self.stock_after + self.quantity
        return self.stock_after < self.low_stock_threshold <= before


async def take(session: AsyncSession, wanted: dict[int, int]) -> list[Taken]:
    taken: list[Taken] = []
    now = datetime.now(UTC)
    for product_id in sorted(wanted):
        quantity = wanted[product_id]
        row = (
            await session.execute(
                update(Product)
                .where(Product.id == product_id, Product.archived_at.is_(None), Product.stock >= quantity)
                .values(stock=Product.stock - quantity, version=Product.version + 1, updated_at=now)
                .returning(Product.slug, Product.title, Product.price, Product.stock, Product.low_stock_threshold)
                .execution_options(synchronize_session=False)
            )
        ).first()
        if row is None:
            await _explain_refusal(session, wanted, {item.product_id: item.quantity for item in taken})
        else:
            taken.append(
                Taken(product_id, row.slug, row.title, row.price, quantity, row.stock, row.low_stock_threshold)
            )
    return taken


async def _explain_refusal(session: AsyncSession, wanted: dict[int, int], already: dict[int, int]) -> None:
    rows = {
        row.id: row
        for row in await session.execute(
            select(Product.id, Product.stock, Product.archived_at).where(Product.id.in_(wanted))
        )
    }
    for product_id in sorted(wanted):
        row = rows.get(product_id)
        if row is None or row.archived_at is not None:
            raise ProductUnavailable(product_id)
    shortages = []
    for product_id in sorted(wanted):
        # Lines this order already took count as available: the rollback returns them.
        available = rows[product_id].stock + already.get(product_id, 0)
        if wanted[product_id] > available:
            shortages.append({"product_id": product_id, "requested": wanted[product_id], "available": available})
    raise OutOfStock(shortages)


async def give_back(session: AsyncSession, quantities: dict[int, int]) -> list[tuple[int, str]]:
    """Return stock; the (id, slug) of the products touched, for cache invalidation."""
    now = datetime.now(UTC)
    touched = []
    for product_id in sorted(quantities):
        slug = await session.scalar(
            update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantities[product_id], version=Product.version + 1, updated_at=now)
            .returning(Product.slug)
            .execution_options(synchronize_session=False)
        )
        if slug is not None:
            touched.append((product_id, slug))
    return touched
