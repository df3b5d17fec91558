"""Carts (one per user) and their lines."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storefront.core.models import Base, TimestampMixin


class Cart(TimestampMixin, Base):
    """A user's one cart, with the shipping address (all ``address_*`` set, or none) and
    the chosen shipping rate. Prices are not stored: lines are priced when read."""

    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: one cart per user, so two first requests racing to create it cannot make two.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    address_name: Mapped[str | None] = mapped_column(String(100))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    address_city: Mapped[str | None] = mapped_column(String(100))
    address_postal_code: Mapped[str | None] = mapped_column(String(20))
    address_country: Mapped[str | None] = mapped_column(String(2))
    address_phone: Mapped[str | None] = mapped_column(String(32))
    # SET NULL: an admin deleting a rate leaves the cart without a choice, not without a cart.
    shipping_rate_id: Mapped[int | None] = mapped_column(
        ForeignKey("shipping_rates.id", ondelete="SET NULL"), index=True
    )


class CartItem(Base):
    """A product in a cart, at most once, with its quantity."""

    __tablename__ = "cart_items"
    __table_args__ = (
        # Leads with cart_id: a cart's lines, and the foreign key's index.
        UniqueConstraint("cart_id", "product_id"),
        CheckConstraint("quantity BETWEEN 1 AND 100", name="quantity_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    # CASCADE: a product erased from the catalog leaves every cart.
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int]
