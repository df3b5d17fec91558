"""Payments at the edge: the provider the runtime built, and the service per unit of work."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.dependencies import SessionDep, StateDep
from storefront.core.state import AppState
from storefront.orders.dependencies import order_service
from storefront.payments.providers import PaymentProvider
from storefront.payments.repository import PaymentRepository
from storefront.payments.service import PaymentService


def payment_service(state: AppState, session: AsyncSession, provider: PaymentProvider) -> PaymentService:
    """The service for one unit of work, wired from the process's clients."""
    return PaymentService(PaymentRepository(session), provider, order_service(state, session))


async def get_provider(request: Request) -> PaymentProvider:
    # Built once per process by the runtime (it holds the provider's HTTP connections).
    provider: PaymentProvider = request.app.state.storefront.payments
    return provider


ProviderDep = Annotated[PaymentProvider, Depends(get_provider)]


async def get_payment_service(state: StateDep, session: SessionDep, provider: ProviderDep) -> PaymentService:
    return payment_service(state, session, provider)


PaymentServiceDep = Annotated[PaymentService, Depends(get_payment_service)]
