"""Payments, the provider events received about them, and refunds: kept for audit."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storefront.core.models import Base, Money, TimestampMixin, UTCDateTime, utcnow


class PaymentState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # The provider reported a different amount than the order's: nothing applied, an admin looks.
    DISPUTED = "amount_mismatch"


class RefundState(StrEnum):
    # Reserved against the order, the provider not yet answered (Stripe: between the two
    # transactions of a refund; a row left here means the process died in between).
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the provider refused or did not answer: the reservation was released


class Payment(TimestampMixin, Base):
    """One attempt to be paid for an order, with a provider."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("provider", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=PaymentState.PENDING)
    amount: Mapped[Decimal] = mapped_column("amount_cents", Money())
    currency: Mapped[str] = mapped_column(String(3))
    # The provider's id for it (a Stripe PaymentIntent id); none for a manual payment.
    reference: Mapped[str | None] = mapped_column(String(255))


class PaymentEvent(Base):
    """Every event a provider sent, once per (provider, event id): how each is applied once."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Refund(Base):
    """Money given back for an order (in full, by amount or by lines), with its outcome."""

    __tablename__ = "refunds"
    __table_args__ = (Index("ix_refunds_order_id_id", "order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))
    provider: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column("amount_cents", Money())
    lines: Mapped[list[dict[str, int]]] = mapped_column(JSON)
    restock: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=RefundState.PENDING)
    # The provider's id for it (a Stripe refund id); none for a manual refund.
    reference: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
