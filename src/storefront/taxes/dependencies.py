"""Tax services per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from storefront.core.dependencies import SessionDep
from storefront.taxes.service import TaxService


async def get_tax_service(session: SessionDep) -> TaxService:
    return TaxService(session)


TaxServiceDep = Annotated[TaxService, Depends(get_tax_service)]
