"""Report queries: keyset batches over a read-only connection (no ORM session: rows are
streamed straight to CSV)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.catalog.models import Category, Product
from storefront.core.sqltypes import AnyRow
from storefront.identity.models import User
from storefront.orders.models import Order, OrderLine


class ReportRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def products(self, after_id: int, limit: int) -> Sequence[AnyRow]:
        """(id, slug, title, category slug, price, stock, created_at) of the next live products by id."""
        query = (
            select(
                Product.id,
                Product.slug,
                Product.title,
                Category.slug,
                Product.price.label("price"),
                Product.stock,
                Product.created_at,
            )
            .join(Category, Category.id == Product.category_id)
            .where(Product.id > after_id, Product.archived_at.is_(None))
            .order_by(Product.id)
            .limit(limit)
        )
        return (await self.connection.execute(query)).all()

    async def order_lines(self, lower: datetime, upper: datetime, after_id: int, limit: int) -> Sequence[AnyRow]:
        """(order id, created_at, status, user email, product_id, title, unit_price, quantity,
        line_total, order total): every line of the next ``limit`` orders by id created in
        [lower, upper)."""
        # Keyset over orders alone (their primary key), then their lines: each batch is
        # an index range scan, however deep the export is. Every order has at least one
        # line, so a batch without lines means no orders are left.
        orders = (
            select(Order.id, Order.created_at, Order.status, Order.user_id, Order.total)
            .where(Order.created_at >= lower, Order.created_at < upper, Order.id > after_id)
            .order_by(Order.id)
            .limit(limit)
            .subquery()
        )
        query = (
            select(
                orders.c.id,
                orders.c.created_at,
                orders.c.status,
                User.email,
                OrderLine.product_id,
                OrderLine.title,
                OrderLine.unit_price.label("unit_price"),
                OrderLine.quantity,
                OrderLine.line_total.label("line_total"),
                orders.c.total,
            )
            .join(OrderLine, OrderLine.order_id == orders.c.id)
            .join(User, User.id == orders.c.user_id)
            .order_by(orders.c.id, OrderLine.id)
        )
        return (await self.connection.execute(query)).all()
