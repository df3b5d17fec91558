"""Sales roll-ups: what the analytics report adds up, kept per UTC day by the database.

The rows are never written by the application: triggers on ``orders`` and
``order_lines`` (migration 0010) apply the difference every inserted, updated or
deleted row makes, inside the statement that makes it. Whatever changes an order
(a placement, a status change, a refund reserved or released, the seeder's COPY,
an admin's SQL) therefore changes its roll-up in the same transaction, and the
report reads a few thousand rows instead of every order of the range.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from storefront.core.models import Base, Money


class SalesDay(Base):
    """Orders created on ``day`` now in ``status``: how many, and their totals net of refunds."""

    __tablename__ = "sales_days"

    day: Mapped[date] = mapped_column(Date(), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    orders: Mapped[int] = mapped_column(BigInteger(), default=0)
    net: Mapped[Decimal] = mapped_column("net_cents", Money(), default=Decimal(0))


class SalesProduct(Base):
    """A product's sales (orders in a sold status) created in one period: a day (``grain``
    'd', ``period`` the day) or a calendar month ('m', ``period`` its first day). Months
    let a year be read as 12 rows per product; days cover a range's partial months.

    ``lines`` counts the sold lines behind the row: a product whose lines were all
    cancelled keeps a row of zeros, and the report leaves it out as a scan of the
    lines would."""

    __tablename__ = "sales_products"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    period: Mapped[date] = mapped_column(Date(), primary_key=True)
    product_id: Mapped[int] = mapped_column(primary_key=True)
    lines: Mapped[int] = mapped_column(BigInteger(), default=0)
    units: Mapped[int] = mapped_column(BigInteger(), default=0)
    revenue: Mapped[Decimal] = mapped_column("revenue_cents", Money(), default=Decimal(0))
