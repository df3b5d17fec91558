"""Shipping zones, the countries each serves, and their rates."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storefront.core.models import Base, Money, TimestampMixin


class ShippingZone(TimestampMixin, Base):
    __tablename__ = "shipping_zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    countries: Mapped[list[ShippingZoneCountry]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True, order_by="ShippingZoneCountry.country"
    )
    rates: Mapped[list[ShippingRate]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True, order_by="ShippingRate.id"
    )


class ShippingZoneCountry(Base):
    """A country served by a zone. The country is the key: it belongs to at most one zone."""

    __tablename__ = "shipping_zone_countries"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("shipping_zones.id", ondelete="CASCADE"), index=True)


class ShippingRate(Base):
    """One way to ship to a zone's countries; free when the subtotal reaches ``free_over`` (if set)."""

    __tablename__ = "shipping_rates"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("free_over_cents IS NULL OR free_over_cents >= 0", name="free_over_not_negative"),
        CheckConstraint("min_days >= 0 AND max_days >= min_days", name="days_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("shipping_zones.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[Decimal] = mapped_column("price_cents", Money())
    free_over: Mapped[Decimal | None] = mapped_column("free_over_cents", Money())
    min_days: Mapped[int]
    max_days: Mapped[int]
