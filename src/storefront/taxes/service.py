"""Tax rate use cases: set a country's rate (admin), list them, and the rate a country is taxed at."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.models import utcnow
from storefront.taxes.errors import RateOutOfRange
from storefront.taxes.models import TaxRate
from storefront.taxes.repository import TaxRateRepository

NO_TAX = Decimal("0.0000")


class TaxService:
    def __init__(self, session: AsyncSession) -> None:
        self.rates = TaxRateRepository(session)

    async def list(self) -> Sequence[TaxRate]:
        return await self.rates.all()

    async def rate_for(self, country: str) -> Decimal:
        """The rate ``country`` (canonical alpha-2) is taxed at: 0 when none is set."""
        rate = await self.rates.get(country)
        return rate.rate if rate is not None else NO_TAX

    async def set_rate(self, country: str, rate: Decimal) -> TaxRate:
        """Create or replace ``country``'s rate (canonical alpha-2, validated by the caller)."""
        if not (0 <= rate < 1) or rate != rate.quantize(Decimal("0.0001")):
            raise RateOutOfRange()
        current = await self.rates.get(country)
        if current is None:
            created = TaxRate(country=country, rate=rate)
            if await self.rates.insert(created):
                return created
            # A concurrent request created it between our read and our insert: update theirs.
            current = await self.rates.get(country)
            if current is None:
                raise RuntimeError(f"the tax rate of {country} vanished after a conflicting insert")
        await self.rates.change(current, rate, utcnow())
        return current
