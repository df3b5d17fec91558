"""Payment, event and refund queries through the unit of work's session. No commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from storefront.core.repository import Repository
from storefront.payments.models import Payment, PaymentEvent, PaymentState, Refund, RefundState


class PaymentRepository(Repository):
    async def latest_for_order(self, order_id: int) -> Payment | None:
        return await self.session.scalar(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.id.desc()).limit(1)
        )

    async def paid_for_order(self, order_id: int) -> Payment | None:
        """The payment that paid the order (what a refund goes back through), if any."""
        return await self.session.scalar(
            select(Payment)
            .where(Payment.order_id == order_id, Payment.status == PaymentState.SUCCEEDED)
            .order_by(Payment.id.desc())
            .limit(1)
        )

    async def by_reference(self, provider: str, reference: str) -> Payment | None:
        return await self.session.scalar(
            select(Payment).where(Payment.provider == provider, Payment.reference == reference)
        )

    async def settle(self, payment_id: int, status: PaymentState, unless: Sequence[PaymentState]) -> bool:
        """Set a payment's status unless it already is one of ``unless``: of two concurrent
        outcomes only one applies, and a late ``failed`` never undoes a ``succeeded``."""
        changed = await self.session.scalar(
            update(Payment)
            .where(Payment.id == payment_id, Payment.status.not_in([state.value for state in unless]))
            .values(status=status)
            .returning(Payment.id)
            .execution_options(synchronize_session=False)
        )
        return changed is not None

    async def record_event(self, event: PaymentEvent) -> bool:
        """Store an event; False if this (provider, event id) was stored before (a replay).

        A savepoint, so a duplicate leaves the unit of work usable. On PostgreSQL a
        concurrent duplicate waits here for the first one's transaction, then fails."""
        try:
            async with self.session.begin_nested():
                self.session.add(event)
        except IntegrityError:
            return False
        return True

    async def get_refund(self, refund_id: int) -> Refund | None:
        return await self.session.get(Refund, refund_id, populate_existing=True)

    async def settle_refund(self, refund_id: int, status: RefundState, reference: str | None) -> bool:
        """Move a refund out of ``pending``, once: False if it had already settled."""
        changed = await self.session.scalar(
            update(Refund)
            .where(Refund.id == refund_id, Refund.status == RefundState.PENDING)
            .values(status=status, reference=reference)
            .returning(Refund.id)
            .execution_options(synchronize_session=False)
        )
        return changed is not None
