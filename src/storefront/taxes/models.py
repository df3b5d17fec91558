"""Tax rates, one per country."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from storefront.core.models import Base, TimestampMixin

BASIS_POINTS = Decimal(10_000)


class Rate(TypeDecorator[Decimal]):
    """An exact fraction with up to four places, stored as integer basis points.

    ``Decimal("0.19")`` is stored as 1900: SQLite has no decimal type (a NUMERIC
    column would round-trip through float), and an integer is exact on both backends.
    """

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int((Decimal(value) * BASIS_POINTS).to_integral_value())

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / BASIS_POINTS).quantize(Decimal("0.0001"))


class TaxRate(TimestampMixin, Base):
    __tablename__ = "tax_rates"
    __table_args__ = (CheckConstraint("rate_bp >= 0 AND rate_bp < 10000", name="rate_range"),)

    # ISO 3166-1 alpha-2, upper case; a country has at most one rate.
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    rate: Mapped[Decimal] = mapped_column("rate_bp", Rate())
