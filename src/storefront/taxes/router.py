"""Tax rate routes (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from storefront.core.dependencies import API_PREFIX
from storefront.core.pagination import Page
from storefront.fields import CountryCode
from storefront.identity.dependencies import AdminUser
from storefront.taxes.dependencies import TaxServiceDep
from storefront.taxes.schemas import TaxRateIn, TaxRateRead

router = APIRouter(prefix=f"{API_PREFIX}/admin/tax-rates", tags=["taxes"])

CountryPath = Annotated[CountryCode, Path(description="ISO 3166-1 alpha-2, e.g. DE (case-insensitive).")]


@router.get(
    "",
    response_model=Page[TaxRateRead],
    summary="Every tax rate, by country (one page: next_cursor is always null)",
)
async def list_tax_rates(_: AdminUser, service: TaxServiceDep) -> object:
    # At most one rate per country, so a few hundred rows at most: one page.
    rates = await service.list()
    return Page(items=[TaxRateRead.model_validate(rate) for rate in rates], next_cursor=None)


@router.put(
    "/{country}",
    response_model=TaxRateRead,
    summary="Set a country's tax rate (created or replaced); a country without one is taxed at 0",
)
async def set_tax_rate(country: CountryPath, body: TaxRateIn, _: AdminUser, service: TaxServiceDep) -> object:
    return TaxRateRead.model_validate(await service.set_rate(country, body.rate))
