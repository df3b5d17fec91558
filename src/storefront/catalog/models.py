"""Catalog tables.

The full-text index is not modelled here: PostgreSQL keeps a generated
``search_vector`` column with a GIN index, SQLite an FTS5 table kept in sync by
triggers. Both are created by migration 0002 and hidden from autogenerate.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from storefront.core.models import Base, Money, TimestampMixin, UTCDateTime, utcnow

LISTED = text("archived_at IS NULL")
LOW_STOCK = text("archived_at IS NULL AND stock < low_stock_threshold")


def _listing_index(name: str, *columns: str) -> Index:
    # Partial indexes over live products, one per sort (and per category + sort):
    # keyset pages walk them in order and stop after `limit` rows.
    return Index(name, *columns, "id", postgresql_where=LISTED, sqlite_where=LISTED)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Product(TimestampMixin, Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("low_stock_threshold >= 0", name="threshold_not_negative"),
        _listing_index("ix_products_live_created", "created_at"),
        _listing_index("ix_products_live_price", "price_cents"),
        _listing_index("ix_products_live_title", "title"),
        _listing_index("ix_products_live_category_created", "category_id", "created_at"),
        _listing_index("ix_products_live_category_price", "category_id", "price_cents"),
        _listing_index("ix_products_live_category_title", "category_id", "title"),
        # Only the few products under their threshold: the analytics' low-stock list is a short index walk.
        Index("ix_products_low_stock", "stock", "id", postgresql_where=LOW_STOCK, sqlite_where=LOW_STOCK),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    price: Mapped[Decimal] = mapped_column("price_cents", Money())
    stock: Mapped[int] = mapped_column(default=0)
    low_stock_threshold: Mapped[int] = mapped_column(default=5, server_default="5")
    seo_keywords: Mapped[list[str]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), default=list, server_default="[]"
    )
    # Optimistic concurrency: every UPDATE checks and bumps it; the ETag is built on it.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Products that orders reference are archived, not erased.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": version}
