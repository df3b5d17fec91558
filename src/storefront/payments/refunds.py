"""Refunds: counted against what the order was paid, then given back through the
provider that took the money.

A manual refund (a manual payment, or a direct order settled outside the shop) is
one unit of work: count it, restock, store it ``succeeded``.

A refund through a remote provider (Stripe) never holds a transaction while the
provider answers:

1. a short unit of work counts it against the order (the orders domain's
   conditional UPDATE: concurrent refunds cannot together exceed the payment) and
   stores the refund ``pending``;
2. the provider is called outside any transaction, with the key ``refund-<id>``
   (the SDK's retries are the same refund at Stripe);
3. a second unit of work marks it ``succeeded`` (and restocks, and the order
   becomes ``refunded`` when all of it is), or ``failed`` and releases what step 1
   counted. Either move is conditional on ``pending``, so it happens once.

A refund left ``pending`` means the process stopped between 2 and 3: its outcome
is in the provider's dashboard, and its amount stays counted (the safe side: no
second refund can take it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.orders.service import OrderService
from storefront.payments.errors import PaymentProviderUnavailable, ProviderNotConfigured, RefundRefused
from storefront.payments.models import Refund, RefundState
from storefront.payments.providers import ManualProvider, PaymentProvider
from storefront.payments.repository import PaymentRepository
from storefront.payments.schemas import RefundCreate

log = structlog.get_logger("storefront.payments")

UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]


@dataclass(frozen=True, slots=True)
class OpenedRefund:
    refund: Refund
    reference: str | None  # the payment's id at the provider (a PaymentIntent id)
    remote: bool  # through the provider: settled in a second unit of work


def _quantities(refund: Refund) -> dict[int, int]:
    return {line["product_id"]: line["quantity"] for line in refund.lines}


class RefundService:
    """The steps of a refund, each inside the caller's unit of work."""

    def __init__(self, session: AsyncSession, provider: PaymentProvider, orders: OrderService) -> None:
        self.payments = PaymentRepository(session)
        self.provider = provider
        self.orders = orders

    async def open(self, order_id: int, data: RefundCreate) -> OpenedRefund:
        """Count a refund against the order and store it ``pending``."""
        lines = Counter[int]()
        for line in data.lines:  # a product listed twice counts once, with both quantities
            lines[line.product_id] += line.quantity
        payment = await self.payments.paid_for_order(order_id)
        provider = payment.provider if payment is not None else ManualProvider.name
        if provider not in (ManualProvider.name, self.provider.name):
            await self.orders.get(order_id, None)  # an unknown order is a 404 before anything else
            raise ProviderNotConfigured(order_id, provider)
        reserved = await self.orders.reserve_refund(order_id, data.amount, dict(lines))
        refund = Refund(
            order_id=order_id,
            payment_id=payment.id if payment is not None else None,
            provider=provider,
            amount=reserved.amount,
            lines=[{"product_id": pid, "quantity": qty} for pid, qty in sorted(reserved.lines.items())],
            restock=data.restock,
            reason=data.reason,
            status=RefundState.PENDING,
        )
        await self.payments.add(refund)
        remote = provider != ManualProvider.name
        return OpenedRefund(refund, payment.reference if payment is not None else None, remote)

    async def succeeded(self, refund_id: int, reference: str | None) -> Refund:
        """The money went back: restock what was asked, and settle the order."""
        refund = await self._get(refund_id)
        if await self.payments.settle_refund(refund_id, RefundState.SUCCEEDED, reference):
            if refund.restock:
                await self.orders.restock(refund.order_id, _quantities(refund))
            await self.orders.settle_refund(refund.order_id)
        return await self._get(refund_id)

    async def failed(self, refund_id: int, reference: str | None = None) -> Refund:
        """The provider refused or did not answer: give back what ``open`` counted."""
        refund = await self._get(refund_id)
        if await self.payments.settle_refund(refund_id, RefundState.FAILED, reference):
            await self.orders.release_refund(refund.order_id, refund.amount, _quantities(refund))
        return await self._get(refund_id)

    async def _get(self, refund_id: int) -> Refund:
        refund = await self.payments.get_refund(refund_id)
        if refund is None:  # only ever called with the id ``open`` returned
            raise LookupError(f"refund {refund_id} vanished")
        return refund


async def refund_order(
    unit_of_work: UnitOfWork,
    services: Callable[[AsyncSession], RefundService],
    provider: PaymentProvider,
    order_id: int,
    data: RefundCreate,
) -> Refund:
    """Refund an order, in one unit of work (manual) or two around the provider's call."""
    async with unit_of_work() as session:
        refunds = services(session)
        opened = await refunds.open(order_id, data)
        if not opened.remote:
            return await refunds.succeeded(opened.refund.id, None)
    refund = opened.refund
    try:
        result = await provider.refund(opened.reference, refund.amount, key=f"refund-{refund.id}")
    except PaymentProviderUnavailable:
        async with unit_of_work() as session:
            await services(session).failed(refund.id)
        log.warning("refund_failed", refund_id=refund.id, order_id=order_id, provider=provider.name)
        raise
    async with unit_of_work() as session:
        if result.succeeded:
            return await services(session).succeeded(refund.id, result.reference)
        await services(session).failed(refund.id, result.reference)
    log.warning("refund_refused", refund_id=refund.id, order_id=order_id, provider_status=result.status)
    raise RefundRefused(order_id, provider.name, result.status)
