"""Schema building blocks shared by every domain."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from storefront.fields import DecimalInput


class Strict(BaseModel):
    """Input bodies refuse unknown fields: no mass assignment of ids, roles, totals."""

    model_config = ConfigDict(extra="forbid")


# Money in: a string or a number, never negative, at most two decimal places.
MoneyIn = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False), DecimalInput(10, 2)]
# Money in that must be above zero (a refund's amount).
PositiveMoneyIn = Annotated[
    Decimal, Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False), DecimalInput(10, 2, positive=True)
]
# Money out: a decimal string with exactly two places ("19.90").
MoneyOut = Annotated[Decimal, PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", min_length=1, max_length=200)]
