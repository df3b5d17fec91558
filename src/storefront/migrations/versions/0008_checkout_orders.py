"""checkout orders: pending payment and refunded statuses, address/shipping/tax copies, refunds, expiry

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storefront.core.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "status IN ('placed', 'shipped', 'delivered', 'cancelled')"
ORDER_INDEX = ["created_at", "status", "total_cents", "refunded_total_cents", "id"]
LINE_INDEX = ["order_id", "product_id", "quantity", "line_total_cents", "unit_price_cents", "refunded_quantity"]
NEW_STATUSES = "status IN ('pending_payment', 'placed', 'shipped', 'delivered', 'cancelled', 'refunded')"


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shipping_address", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("shipping_option", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("shipping_total_cents", storefront.core.models.Money(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("tax_rate", sa.String(length=12), nullable=True))
        batch_op.add_column(
            sa.Column("tax_total_cents", storefront.core.models.Money(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("refunded_total_cents", storefront.core.models.Money(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("payment_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("expires_at", storefront.core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("stock_alerts", sa.JSON(), nullable=True))
        batch_op.drop_constraint(op.f("ck_orders_status_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_orders_status_valid"), sa.text(NEW_STATUSES))
        batch_op.create_check_constraint(
            op.f("ck_orders_refunded_total_valid"), sa.text("refunded_total_cents BETWEEN 0 AND total_cents")
        )
        # Analytics count revenue net of refunds from the covering index alone.
        batch_op.drop_index("ix_orders_created_at_status_total")
        batch_op.create_index("ix_orders_created_at_status_total", ORDER_INDEX, unique=False)
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refunded_quantity", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_order_lines_refunded_quantity_valid"), sa.text("refunded_quantity BETWEEN 0 AND quantity")
        )
        batch_op.drop_index("ix_order_lines_order_id_sales")
        batch_op.create_index("ix_order_lines_order_id_sales", LINE_INDEX, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_order_lines_order_id_sales")
        batch_op.create_index("ix_order_lines_order_id_sales", LINE_INDEX[:4], unique=False)
        batch_op.drop_constraint(op.f("ck_order_lines_refunded_quantity_valid"), type_="check")
        batch_op.drop_column("refunded_quantity")
    # Orders only a checkout could make cannot be kept by the old schema's statuses.
    op.execute("DELETE FROM orders WHERE status IN ('pending_payment', 'refunded')")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_created_at_status_total")
        batch_op.create_index(
            "ix_orders_created_at_status_total", ["created_at", "status", "total_cents", "id"], unique=False
        )
        batch_op.drop_constraint(op.f("ck_orders_refunded_total_valid"), type_="check")
        batch_op.drop_constraint(op.f("ck_orders_status_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_orders_status_valid"), sa.text(OLD_STATUSES))
        for column in (
            "stock_alerts",
            "expires_at",
            "payment_status",
            "refunded_total_cents",
            "tax_total_cents",
            "tax_rate",
            "shipping_total_cents",
            "shipping_option",
            "shipping_address",
        ):
            batch_op.drop_column(column)
