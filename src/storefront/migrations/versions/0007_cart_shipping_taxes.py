"""cart, shipping zones and rates, tax rates

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storefront.core.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "created_at",
            storefront.core.models.UTCDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            storefront.core.models.UTCDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "shipping_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_zones")),
    )
    op.create_table(
        "shipping_zone_countries",
        # The key: a country belongs to at most one zone.
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["shipping_zones.id"],
            name=op.f("fk_shipping_zone_countries_zone_id_shipping_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("country", name=op.f("pk_shipping_zone_countries")),
    )
    with op.batch_alter_table("shipping_zone_countries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipping_zone_countries_zone_id"), ["zone_id"], unique=False)

    op.create_table(
        "shipping_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("price_cents", storefront.core.models.Money(), nullable=False),
        sa.Column("free_over_cents", storefront.core.models.Money(), nullable=True),
        sa.Column("min_days", sa.Integer(), nullable=False),
        sa.Column("max_days", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "free_over_cents IS NULL OR free_over_cents >= 0", name=op.f("ck_shipping_rates_free_over_not_negative")
        ),
        sa.CheckConstraint("min_days >= 0 AND max_days >= min_days", name=op.f("ck_shipping_rates_days_range")),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_shipping_rates_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["shipping_zones.id"],
            name=op.f("fk_shipping_rates_zone_id_shipping_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_rates")),
    )
    with op.batch_alter_table("shipping_rates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipping_rates_zone_id"), ["zone_id"], unique=False)

    op.create_table(
        "tax_rates",
        sa.Column("country", sa.String(length=2), nullable=False),
        # Basis points: 1900 is 19% (taxes.models.Rate).
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("rate_bp >= 0 AND rate_bp < 10000", name=op.f("ck_tax_rates_rate_range")),
        sa.PrimaryKeyConstraint("country", name=op.f("pk_tax_rates")),
    )

    op.create_table(
        "carts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address_name", sa.String(length=100), nullable=True),
        sa.Column("address_line1", sa.String(length=200), nullable=True),
        sa.Column("address_line2", sa.String(length=200), nullable=True),
        sa.Column("address_city", sa.String(length=100), nullable=True),
        sa.Column("address_postal_code", sa.String(length=20), nullable=True),
        sa.Column("address_country", sa.String(length=2), nullable=True),
        sa.Column("address_phone", sa.String(length=32), nullable=True),
        sa.Column("shipping_rate_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["shipping_rate_id"],
            ["shipping_rates.id"],
            name=op.f("fk_carts_shipping_rate_id_shipping_rates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_carts_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carts")),
        sa.UniqueConstraint("user_id", name=op.f("uq_carts_user_id")),
    )
    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carts_shipping_rate_id"), ["shipping_rate_id"], unique=False)

    op.create_table(
        "cart_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cart_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity BETWEEN 1 AND 100", name=op.f("ck_cart_items_quantity_range")),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["carts.id"], name=op.f("fk_cart_items_cart_id_carts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_cart_items_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_items")),
        sa.UniqueConstraint("cart_id", "product_id", name=op.f("uq_cart_items_cart_id")),
    )
    with op.batch_alter_table("cart_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cart_items_product_id"), ["product_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cart_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cart_items_product_id"))
    op.drop_table("cart_items")
    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carts_shipping_rate_id"))
    op.drop_table("carts")
    op.drop_table("tax_rates")
    with op.batch_alter_table("shipping_rates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipping_rates_zone_id"))
    op.drop_table("shipping_rates")
    with op.batch_alter_table("shipping_zone_countries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipping_zone_countries_zone_id"))
    op.drop_table("shipping_zone_countries")
    op.drop_table("shipping_zones")
