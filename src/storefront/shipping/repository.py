"""Shipping queries through the unit of work's session. No commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from storefront.core.pagination import IdKeyset
from storefront.core.repository import Repository
from storefront.shipping.models import ShippingRate, ShippingZone, ShippingZoneCountry

_WHOLE_ZONE = (selectinload(ShippingZone.countries), selectinload(ShippingZone.rates))


class ShippingRepository(Repository):
    async def get(self, zone_id: int) -> ShippingZone | None:
        """A zone with its countries and rates."""
        return await self.session.scalar(select(ShippingZone).options(*_WHOLE_ZONE).where(ShippingZone.id == zone_id))

    async def list(self, keyset: IdKeyset) -> Sequence[ShippingZone]:
        """Zones with their countries and rates, oldest first."""
        query = keyset.apply(select(ShippingZone).options(*_WHOLE_ZONE), ShippingZone.id, newest_first=False)
        return (await self.session.scalars(query)).all()

    async def zones_of(self, countries: Collection[str]) -> dict[str, int]:
        """Which zone each of ``countries`` is in (those in none are absent)."""
        if not countries:
            return {}
        rows = await self.session.execute(
            select(ShippingZoneCountry.country, ShippingZoneCountry.zone_id).where(
                ShippingZoneCountry.country.in_(list(countries))
            )
        )
        return {row.country: row.zone_id for row in rows}

    async def rates_for(self, country: str) -> Sequence[ShippingRate]:
        """The rates of the zone serving ``country``, cheapest first."""
        query = (
            select(ShippingRate)
            .join(ShippingZoneCountry, ShippingZoneCountry.zone_id == ShippingRate.zone_id)
            .where(ShippingZoneCountry.country == country)
            .order_by(ShippingRate.price, ShippingRate.id)
        )
        return (await self.session.scalars(query)).all()

    async def save(self) -> None:
        """Write the changes made to loaded zones (surfacing constraint errors now)."""
        await self.session.flush()

    async def delete(self, zone: ShippingZone) -> None:
        # Its countries and rates go with it (ON DELETE CASCADE); carts that chose
        # one of its rates lose the choice (ON DELETE SET NULL).
        await self.session.delete(zone)
        await self.session.flush()
