"""Shipping errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from storefront.core.errors import Conflict, InvalidInput, NotFound


class ZoneNotFound(NotFound):
    def __init__(self, zone_id: int) -> None:
        super().__init__(f"Shipping zone {zone_id} not found")


class CountryInAnotherZone(Conflict):
    """A country belongs to at most one zone: ``taken`` maps each offending country to its zone."""

    def __init__(self, taken: Mapping[str, int]) -> None:
        super().__init__(
            f"Already in another shipping zone: {', '.join(sorted(taken))}",
            details=[{"country": country, "zone_id": zone_id} for country, zone_id in sorted(taken.items())],
        )


class CountryJustTaken(Conflict):
    """Another admin added one of these countries to their zone between our check and our write.

    The failed write aborted the unit of work, so which zone won cannot be read to name it.
    """

    def __init__(self, countries: Iterable[str]) -> None:
        super().__init__(f"One of {', '.join(sorted(set(countries)))} was just added to another shipping zone")


class UnknownRate(InvalidInput):
    """A PATCH names a rate id that is not one of this zone's rates (or names one twice)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"rates.{index}.id", message)
