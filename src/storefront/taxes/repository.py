"""Tax rate queries through the unit of work's session. No commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storefront.core.repository import Repository
from storefront.taxes.models import TaxRate


class TaxRateRepository(Repository):
    async def get(self, country: str) -> TaxRate | None:
        return await self.session.get(TaxRate, country)

    async def all(self) -> Sequence[TaxRate]:
        """Every rate, by country (at most one per country: a few hundred rows)."""
        return (await self.session.scalars(select(TaxRate).order_by(TaxRate.country))).all()

    async def insert(self, rate: TaxRate) -> bool:
        """Add a country's first rate; False when a concurrent unit of work added it first.

        Inside a SAVEPOINT, so the losing insert leaves the rest of the unit of work intact.
        """
        try:
            async with self.session.begin_nested():
                self.session.add(rate)
        except IntegrityError:
            return False
        return True

    async def change(self, row: TaxRate, rate: Decimal, now: datetime) -> None:
        row.rate = rate
        row.updated_at = now
        await self.session.flush()
