"""analytics indexes: covering orders by date, order lines by sales, low-stock products

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOW_STOCK = sa.text("archived_at IS NULL AND stock < low_stock_threshold")


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_created_at_status_total", ["created_at", "status", "total_cents", "id"], unique=False
        )
        batch_op.drop_index("ix_orders_created_at")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_lines_order_id_sales", ["order_id", "product_id", "quantity", "line_total_cents"], unique=False
        )
        batch_op.drop_index("ix_order_lines_order_id")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(
            "ix_products_low_stock", ["stock", "id"], unique=False, postgresql_where=LOW_STOCK, sqlite_where=LOW_STOCK
        )


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_low_stock", postgresql_where=LOW_STOCK, sqlite_where=LOW_STOCK)
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index("ix_order_lines_order_id", ["order_id"], unique=False)
        batch_op.drop_index("ix_order_lines_order_id_sales")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_created_at", ["created_at"], unique=False)
        batch_op.drop_index("ix_orders_created_at_status_total")
