"""Orders, their lines and the emails sent about them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storefront.core.models import Base, Money, TimestampMixin, UTCDateTime, utcnow


class OrderStatus(StrEnum):
    """The one definition of an order's statuses: the schemas, the MCP tools, the
    lifecycle and the table's CHECK constraint all derive from it."""

    PENDING_PAYMENT = "pending_payment"
    PLACED = "placed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class PaymentStatus(StrEnum):
    """How an order bought through checkout stands with its payment (direct orders: none)."""

    PENDING = "pending"
    FAILED = "failed"  # the last attempt failed; the order waits until it expires
    PAID = "paid"
    EXPIRED = "expired"  # not paid in time: cancelled, stock back


# Orders whose money the shop holds: the ones a refund can come from.
PAID_STATUSES = (OrderStatus.PLACED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.REFUNDED)


_STATUS_VALUES = ", ".join(f"'{status.value}'" for status in OrderStatus)


class Order(TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_VALUES})", name="status_valid"),
        # Never more refunded than was paid, whatever the concurrency (the service checks first).
        CheckConstraint("refunded_total_cents BETWEEN 0 AND total_cents", name="refunded_total_valid"),
        Index("ix_orders_user_id_id", "user_id", "id"),
        Index("ix_orders_status_id", "status", "id"),
        # Covering the analytics: a date range is read from the index alone (PostgreSQL
        # index-only scans), never from the table.
        Index("ix_orders_created_at_status_total", "created_at", "status", "total_cents", "refunded_total_cents", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.PLACED)
    total: Mapped[Decimal] = mapped_column("total_cents", Money())
    # Checkout orders copy what they were sold with; a direct order has none of it.
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    shipping_option: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    shipping_total: Mapped[Decimal] = mapped_column(
        "shipping_total_cents", Money(), default=Decimal(0), server_default="0"
    )
    tax_rate: Mapped[str | None] = mapped_column(String(12))
    tax_total: Mapped[Decimal] = mapped_column("tax_total_cents", Money(), default=Decimal(0), server_default="0")
    refunded_total: Mapped[Decimal] = mapped_column(
        "refunded_total_cents", Money(), default=Decimal(0), server_default="0"
    )
    payment_status: Mapped[str | None] = mapped_column(String(16))
    # An unpaid checkout order holds its stock until then (CHECKOUT_TTL_MINUTES).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Products this order took below their threshold or sold out, announced once it is placed.
    stock_alerts: Mapped[dict[str, list[int]] | None] = mapped_column(JSON)
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", lazy="raise", cascade="all, delete-orphan", order_by="OrderLine.id"
    )


class OrderLine(Base):
    """Title and price are copied at placement: later catalog changes never touch an order."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("refunded_quantity BETWEEN 0 AND quantity", name="refunded_quantity_valid"),
        # Leads with order_id (an order's lines, the foreign key) and covers sales per
        # product, so top-product analytics never read the wide line rows.
        Index(
            "ix_order_lines_order_id_sales",
            "order_id",
            "product_id",
            "quantity",
            "line_total_cents",
            "unit_price_cents",
            "refunded_quantity",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    # RESTRICT: a product that orders reference is archived, never erased.
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal] = mapped_column("unit_price_cents", Money())
    quantity: Mapped[int]
    line_total: Mapped[Decimal] = mapped_column("line_total_cents", Money())
    refunded_quantity: Mapped[int] = mapped_column(default=0, server_default="0")
    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise")


class SentEmail(Base):
    """One row per email that must go out once (its key, e.g. ``order-confirmation:42``)."""

    __tablename__ = "sent_emails"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
