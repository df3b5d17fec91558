"""Payments at the edge: the provider the runtime built, the services per unit of work,
and the refund, whose units of work the edge opens (two around a remote provider's call)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.dependencies import SessionDep, StateDep
from storefront.core.state import AppState
from storefront.orders.dependencies import order_service
from storefront.payments.models import Refund
from storefront.payments.providers import PaymentProvider
from storefront.payments.refunds import RefundService, refund_order
from storefront.payments.schemas import RefundCreate
from storefront.payments.service import PaymentService


def payment_service(state: AppState, session: AsyncSession, provider: PaymentProvider) -> PaymentService:
    """The service for one unit of work, wired from the process's clients."""
    return PaymentService(session, provider, order_service(state, session))


def refund_service(state: AppState, session: AsyncSession, provider: PaymentProvider) -> RefundService:
    return RefundService(session, provider, order_service(state, session))


async def refund(state: AppState, provider: PaymentProvider, order_id: int, data: RefundCreate) -> Refund:
    """Refund an order: every unit of work it needs is committed when this returns."""
    return await refund_order(
        state.db.session_scope, lambda session: refund_service(state, session, provider), provider, order_id, data
    )


async def get_provider(request: Request) -> PaymentProvider:
    # Built once per process by the runtime (it holds the provider's HTTP connections).
    provider: PaymentProvider = request.app.state.storefront.payments
    return provider


ProviderDep = Annotated[PaymentProvider, Depends(get_provider)]


async def get_payment_service(state: StateDep, session: SessionDep, provider: ProviderDep) -> PaymentService:
    return payment_service(state, session, provider)


PaymentServiceDep = Annotated[PaymentService, Depends(get_payment_service)]
