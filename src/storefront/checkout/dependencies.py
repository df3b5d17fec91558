"""Checkout at the edge: the service per unit of work, and the idempotent checkout
that HTTP and MCP share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.cart.dependencies import cart_service
from storefront.catalog.cache import CatalogCache
from storefront.catalog.inventory import Inventory
from storefront.checkout.schemas import CheckoutRead, CheckoutRequest, checkout_read
from storefront.checkout.service import CheckoutService, PaymentStarter
from storefront.core.idempotency import Answer
from storefront.core.state import AppState
from storefront.orders.dependencies import idempotent_calls, order_service
from storefront.shipping.service import ShippingService

Payments = Callable[[AsyncSession], PaymentStarter]


def checkout_service(state: AppState, session: AsyncSession, payments: Payments) -> CheckoutService:
    """The service for one unit of work, wired from the process's clients."""
    return CheckoutService(
        cart_service(state, session),
        ShippingService(session),
        Inventory(session, CatalogCache(state.cache)),
        order_service(state, session),
        payments(session),
        reservation=timedelta(minutes=state.settings.checkout_ttl_minutes),
    )


async def check_out(state: AppState, payments: Payments, user_id: int, key: str | None) -> Answer[CheckoutRead]:
    """Check the caller's cart out, at most once per (user, key) when a key is given."""

    async def work(session: AsyncSession) -> CheckoutRead:
        return checkout_read(await checkout_service(state, session, payments).checkout(user_id))

    return await idempotent_calls(state).run(user_id, key, "cart.checkout", CheckoutRequest(), CheckoutRead, work)
