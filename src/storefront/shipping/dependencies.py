"""Shipping services per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from storefront.core.dependencies import SessionDep
from storefront.shipping.service import ShippingService


async def get_shipping_service(session: SessionDep) -> ShippingService:
    return ShippingService(session)


ShippingServiceDep = Annotated[ShippingService, Depends(get_shipping_service)]
