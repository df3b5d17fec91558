"""Tax rate bodies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from storefront.core.schemas import Strict
from storefront.fields import DecimalInput

CENT = Decimal("0.01")


def rate_text(rate: Decimal) -> str:
    """``0.19`` as "0.19", ``0.075`` as "0.075", ``0`` as "0.00": no trailing zeros past two places."""
    shown = rate.quantize(CENT) if rate == rate.quantize(CENT) else rate.normalize()
    return f"{shown:f}"


# 0 <= rate < 1, at most four places ("0.0725"): the precision of the stored basis points.
RateIn = Annotated[
    Decimal,
    Field(ge=0, lt=1, max_digits=5, decimal_places=4, allow_inf_nan=False),
    DecimalInput(1, 4, below=Decimal(1)),
]
RateOut = Annotated[Decimal, PlainSerializer(rate_text, return_type=str, when_used="json")]


class TaxRateIn(Strict):
    rate: Annotated[RateIn, Field(description='A decimal string: "0.19" is 19%. 0 to below 1, up to 4 places.')]


class TaxRateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    country: str
    rate: RateOut
    updated_at: datetime
