"""The cart service per unit of work, for HTTP and MCP alike."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.cart.service import CartService
from storefront.catalog.cache import CatalogCache
from storefront.catalog.inventory import Inventory
from storefront.core.dependencies import SessionDep, StateDep, WriteSessionDep
from storefront.core.state import AppState
from storefront.shipping.service import ShippingService
from storefront.taxes.service import TaxService


def cart_service(state: AppState, session: AsyncSession) -> CartService:
    """The service for one unit of work, wired from the process's clients."""
    return CartService(
        session,
        Inventory(session, CatalogCache(state.cache)),
        ShippingService(session),
        TaxService(session),
        currency=state.settings.currency,
        # A cart is checked out as one order: no more lines than an order may have.
        max_lines=state.settings.order_max_lines,
    )


async def get_cart_service(state: StateDep, session: SessionDep) -> CartService:
    return cart_service(state, session)


async def get_writing_cart_service(state: StateDep, session: WriteSessionDep) -> CartService:
    # For GET /cart, which creates the cart on first use: a safe method that writes.
    return cart_service(state, session)


CartServiceDep = Annotated[CartService, Depends(get_cart_service)]
WritingCartServiceDep = Annotated[CartService, Depends(get_writing_cart_service)]
