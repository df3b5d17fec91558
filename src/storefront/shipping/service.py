"""Shipping use cases: zones and their rates (admin), and the options a country is offered.

A country belongs to at most one zone. The service checks before writing (to name
the zone that has it), and the country column being the primary key of
``shipping_zone_countries`` settles a race between two admins: the loser's flush
fails and is answered with the same 409.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.models import utcnow
from storefront.core.pagination import IdKeyset
from storefront.shipping.errors import CountryInAnotherZone, CountryJustTaken, UnknownRate, ZoneNotFound
from storefront.shipping.models import ShippingRate, ShippingZone, ShippingZoneCountry
from storefront.shipping.quote import ShippingQuote, quote_all
from storefront.shipping.repository import ShippingRepository
from storefront.shipping.schemas import RateCreate, RateIn, ZoneCreate, ZoneUpdate


class ShippingService:
    def __init__(self, session: AsyncSession) -> None:
        self.zones = ShippingRepository(session)

    async def list_zones(self, keyset: IdKeyset) -> Sequence[ShippingZone]:
        return await self.zones.list(keyset)

    async def get_zone(self, zone_id: int) -> ShippingZone:
        zone = await self.zones.get(zone_id)
        if zone is None:
            raise ZoneNotFound(zone_id)
        return zone

    async def create_zone(self, data: ZoneCreate) -> ShippingZone:
        zone = ShippingZone(name=data.name, countries=[], rates=[])
        await self._set_countries(zone, data.countries)
        _set_rates(zone, data.rates)
        try:
            await self.zones.add(zone)
        except IntegrityError as exc:  # a concurrent request took one of the countries
            raise CountryJustTaken(data.countries) from exc
        return zone

    async def update_zone(self, zone_id: int, data: ZoneUpdate) -> ShippingZone:
        """Change what is given; ``countries`` and ``rates`` replace the whole lists."""
        zone = await self.get_zone(zone_id)
        if data.name is not None:
            zone.name = data.name
        if data.countries is not None:
            await self._set_countries(zone, data.countries)
        if data.rates is not None:
            _set_rates(zone, data.rates)
        # The countries and rates are rows of their own: the zone changed all the same.
        zone.updated_at = utcnow()
        try:
            await self.zones.save()
        except IntegrityError as exc:
            raise CountryJustTaken(data.countries or []) from exc
        return zone

    async def delete_zone(self, zone_id: int) -> None:
        await self.zones.delete(await self.get_zone(zone_id))

    async def rates_for(self, country: str) -> Sequence[ShippingRate]:
        """The rates of the zone serving ``country``, cheapest first (none when no zone does)."""
        return await self.zones.rates_for(country)

    async def quote(self, country: str, subtotal: Decimal) -> list[ShippingQuote]:
        """The options for ``country``, priced for ``subtotal``."""
        return quote_all(await self.rates_for(country), subtotal)

    async def _set_countries(self, zone: ShippingZone, countries: Sequence[str]) -> None:
        wanted = list(dict.fromkeys(countries))  # a code listed twice counts once
        taken = {country: owner for country, owner in (await self.zones.zones_of(wanted)).items() if owner != zone.id}
        if taken:
            raise CountryInAnotherZone(taken)
        # Keep the rows of countries that stay: deleting and re-adding the same key in
        # one flush would collide (the unit of work inserts before it deletes).
        current = {entry.country: entry for entry in zone.countries}
        zone.countries = [current.get(country) or ShippingZoneCountry(country=country) for country in wanted]


def _set_rates(zone: ShippingZone, rates: Sequence[RateCreate | RateIn]) -> None:
    """Replace the zone's rates: listed ids are kept and updated, new ones added, the rest deleted."""
    existing = {rate.id: rate for rate in zone.rates}
    kept: list[ShippingRate] = []
    for index, data in enumerate(rates):
        fields = data.model_dump(exclude={"id"})
        if not isinstance(data, RateIn) or data.id is None:
            kept.append(ShippingRate(**fields))
            continue
        rate = existing.pop(data.id, None)
        if rate is None:
            seen = any(item.id == data.id for item in kept)
            raise UnknownRate(index, f"rate {data.id} is {'listed twice' if seen else 'not a rate of this zone'}")
        for field, value in fields.items():
            setattr(rate, field, value)
        kept.append(rate)
    zone.rates = kept
