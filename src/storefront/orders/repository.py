"""Order queries and writes through the unit of work's session. No commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storefront.core.pagination import IdKeyset
from storefront.orders.models import Order, OrderStatus, SentEmail


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, order: Order) -> Order:
        self.session.add(order)
        await self.session.flush()
        return order

    async def get(self, order_id: int, owner_id: int | None) -> Order | None:
        """An order with its lines; ``owner_id`` limits it to that user's orders."""
        query = select(Order).options(selectinload(Order.lines)).where(Order.id == order_id)
        if owner_id is not None:
            query = query.where(Order.user_id == owner_id)
        return await self.session.scalar(query)

    async def list(self, owner_id: int | None, status: OrderStatus | None, keyset: IdKeyset) -> Sequence[Order]:
        """Newest first; ``owner_id`` limits it to that user's orders."""
        query = select(Order).options(selectinload(Order.lines))
        if owner_id is not None:
            query = query.where(Order.user_id == owner_id)
        if status is not None:
            query = query.where(Order.status == status)
        return (await self.session.scalars(keyset.apply(query, Order.id))).all()

    async def recent(self, user_id: int, limit: int) -> Sequence[Order]:
        return await self.list(user_id, None, IdKeyset(None, limit - 1))

    async def spending(self, user_id: int) -> tuple[int, Decimal]:
        """How many orders a user has that are not cancelled, and their total."""
        row = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(Order.total), 0)).where(
                    Order.user_id == user_id, Order.status != OrderStatus.CANCELLED
                )
            )
        ).one()
        # The sum keeps the column's money type: it arrives as a Decimal amount.
        return int(row[0]), Decimal(row[1])

    async def move(self, order_id: int, current: OrderStatus, target: OrderStatus, now: datetime) -> bool:
        """Change the status if it is still ``current``: of two concurrent moves only one wins."""
        changed = await self.session.scalar(
            update(Order)
            .where(Order.id == order_id, Order.status == current)
            .values(status=target, updated_at=now)
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
        return changed is not None

    async def refresh_status(self, order: Order) -> None:
        await self.session.refresh(order, attribute_names=["status", "updated_at"])

    async def sent_email(self, key: str) -> SentEmail | None:
        return await self.session.get(SentEmail, key)

    async def claim_email(self, key: str, now: datetime, previous: SentEmail | None) -> None:
        """Claim the sending of an email (a unique key: a concurrent claim fails at commit)."""
        if previous is None:
            self.session.add(SentEmail(key=key, claimed_at=now))
        else:  # a claim older than the lease: its worker died before finishing
            previous.claimed_at = now

    async def mark_email_sent(self, key: str, now: datetime) -> None:
        await self.session.execute(update(SentEmail).where(SentEmail.key == key).values(sent_at=now))
