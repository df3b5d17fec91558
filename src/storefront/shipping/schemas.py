"""Shipping zone bodies, and the options a cart is offered."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from storefront.core.params import MAX_ID
from storefront.core.schemas import MoneyIn, MoneyOut, Strict
from storefront.fields import NOT_BOOLEAN, CountryCode, one_line
from storefront.shipping.models import ShippingZone

Name = Annotated[str, one_line(100)]
Days = Annotated[int, Field(ge=0, le=365), NOT_BOOLEAN]
Countries = Annotated[
    list[CountryCode], Field(max_length=300, description="ISO 3166-1 alpha-2 codes; each in at most one zone.")
]


class RateCreate(Strict):
    """A rate of a new zone (no id: there is none to keep yet)."""

    name: Name
    price: MoneyIn
    free_over: Annotated[MoneyIn | None, Field(description="Free when the subtotal reaches this.")] = None
    min_days: Days
    max_days: Days

    @field_validator("max_days")
    @classmethod
    def _not_before_min(cls, value: int, info: ValidationInfo) -> int:
        minimum = info.data.get("min_days")
        if minimum is not None and value < minimum:
            raise ValueError("must not be less than min_days")
        return value


class RateIn(RateCreate):
    """A rate in PATCH: with the id of an existing rate of this zone to keep it, else a new one."""

    id: Annotated[
        int | None,
        Field(ge=1, le=MAX_ID, description="An existing rate of this zone to keep (and update)."),
        NOT_BOOLEAN,
    ] = None


Rates = Annotated[list[RateIn], Field(max_length=50)]


class ZoneCreate(Strict):
    name: Name
    countries: Countries
    rates: Annotated[list[RateCreate], Field(max_length=50)] = Field(default_factory=list)


class ZoneUpdate(Strict):
    """Only the fields given change; ``countries`` and ``rates`` replace the zone's whole lists
    (rates listed with their ``id`` are kept and updated, those left out are deleted)."""

    name: Name | None = None
    countries: Countries | None = None
    rates: Rates | None = None


class RateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    price: MoneyOut
    free_over: MoneyOut | None
    min_days: int
    max_days: int


class ZoneRead(BaseModel):
    id: int
    name: str
    countries: list[str]
    rates: list[RateRead]
    created_at: datetime
    updated_at: datetime


class ShippingOptionRead(BaseModel):
    """An option for the cart's country, priced for its subtotal (0 once ``free_over`` is reached)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    price: MoneyOut
    min_days: int
    max_days: int


def zone_read(zone: ShippingZone) -> ZoneRead:
    """A zone with its countries and rates loaded, as the API shows it."""
    return ZoneRead(
        id=zone.id,
        name=zone.name,
        countries=sorted(entry.country for entry in zone.countries),
        # By id, as a later read loads them: a PATCH's answer lists them as a GET would.
        rates=[RateRead.model_validate(rate) for rate in sorted(zone.rates, key=lambda rate: rate.id)],
        created_at=zone.created_at,
        updated_at=zone.updated_at,
    )
