"""analytics roll-ups: sales per day and status, per product and day or month, kept by triggers

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

The roll-ups are maintained by row triggers on ``orders`` and ``order_lines``, the same
statements on both backends apart from the trigger wrapper and the UTC-day expression:
every row change applies its own difference (the old row's contribution out, the new
row's in) with an atomic ``INSERT .. ON CONFLICT DO UPDATE`` increment, in the
transaction that changes the row. Then the existing rows are added up once.
"""

# ruff: noqa: S608 - statements built from fixed table and column names only

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op

import storefront.core.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The statuses the report counts as sold (storefront.orders.models.PAID_STATUSES, frozen here).
SOLD = "('placed', 'shipped', 'delivered', 'refunded')"
GRAINS = "(SELECT 'd' AS grain UNION ALL SELECT 'm' AS grain)"


def _day(row: str, postgres: bool) -> str:
    """The UTC calendar day of ``row``'s creation (as the report has always grouped it)."""
    return f"CAST(({row}.created_at AT TIME ZONE 'UTC') AS date)" if postgres else f"date({row}.created_at)"


def _month(row: str, postgres: bool) -> str:
    if postgres:
        return f"CAST(date_trunc('month', {row}.created_at AT TIME ZONE 'UTC') AS date)"
    return f"date({row}.created_at, 'start of month')"


def _period(row: str, postgres: bool) -> str:
    return f"CASE g.grain WHEN 'd' THEN {_day(row, postgres)} ELSE {_month(row, postgres)} END"


ADD_PRODUCTS = (
    "ON CONFLICT (grain, period, product_id) DO UPDATE SET lines = sales_products.lines + excluded.lines, "
    "units = sales_products.units + excluded.units, "
    "revenue_cents = sales_products.revenue_cents + excluded.revenue_cents"
)
ADD_DAYS = (
    "ON CONFLICT (day, status) DO UPDATE SET orders = sales_days.orders + excluded.orders, "
    "net_cents = sales_days.net_cents + excluded.net_cents"
)


def _order_days(row: str, sign: str, postgres: bool) -> str:
    """The order ``row`` counted (sign '+') or taken out ('-') of its day and status."""
    # "WHERE true" keeps SQLite from reading ON CONFLICT as a join constraint.
    return (
        f"INSERT INTO sales_days (day, status, orders, net_cents) "
        f"SELECT {_day(row, postgres)}, {row}.status, {sign}1, "
        f"{sign}({row}.total_cents - {row}.refunded_total_cents) WHERE true {ADD_DAYS};"
    )


def _order_products(row: str, sign: str, postgres: bool) -> str:
    """All the lines of the order ``row`` counted or taken out, if ``row`` is sold."""
    return (
        f"INSERT INTO sales_products (grain, period, product_id, lines, units, revenue_cents) "
        f"SELECT g.grain, {_period(row, postgres)}, l.product_id, {sign}count(*), "
        f"{sign}sum(l.quantity - l.refunded_quantity), "
        f"{sign}sum(l.line_total_cents - l.unit_price_cents * l.refunded_quantity) "
        f"FROM order_lines AS l CROSS JOIN {GRAINS} AS g "
        f"WHERE l.order_id = {row}.id AND {row}.status IN {SOLD} "
        f"GROUP BY g.grain, l.product_id {ADD_PRODUCTS};"
    )


def _line_products(row: str, sign: str, postgres: bool) -> str:
    """The line ``row`` counted or taken out, if its order is sold."""
    return (
        f"INSERT INTO sales_products (grain, period, product_id, lines, units, revenue_cents) "
        f"SELECT g.grain, {_period('o', postgres)}, {row}.product_id, {sign}1, "
        f"{sign}({row}.quantity - {row}.refunded_quantity), "
        f"{sign}({row}.line_total_cents - {row}.unit_price_cents * {row}.refunded_quantity) "
        f"FROM orders AS o CROSS JOIN {GRAINS} AS g "
        f"WHERE o.id = {row}.order_id AND o.status IN {SOLD} {ADD_PRODUCTS};"
    )


@dataclass(frozen=True)
class Trigger:
    name: str
    timing: str  # AFTER, or BEFORE for a delete: an order's lines still exist before its cascade
    event: str
    table: str
    when: tuple[str, ...]  # columns whose change matters (any of them), for updates
    body: tuple[tuple[str, str, str], ...]  # (statement kind, row, sign)


ORDER_DAYS = ("status", "total_cents", "refunded_total_cents", "created_at")
ORDER_PRODUCTS = ("status", "created_at")
LINE_PRODUCTS = ("order_id", "product_id", "quantity", "refunded_quantity", "unit_price_cents", "line_total_cents")

TRIGGERS = (
    Trigger("sales_orders_insert", "AFTER", "INSERT", "orders", (), (("days", "NEW", "+"), ("order", "NEW", "+"))),
    Trigger(
        "sales_orders_update_days",
        "AFTER",
        "UPDATE",
        "orders",
        ORDER_DAYS,
        (("days", "OLD", "-"), ("days", "NEW", "+")),
    ),
    Trigger(
        "sales_orders_update_products",
        "AFTER",
        "UPDATE",
        "orders",
        ORDER_PRODUCTS,
        (("order", "OLD", "-"), ("order", "NEW", "+")),
    ),
    Trigger("sales_orders_delete", "BEFORE", "DELETE", "orders", (), (("days", "OLD", "-"), ("order", "OLD", "-"))),
    Trigger("sales_lines_insert", "AFTER", "INSERT", "order_lines", (), (("line", "NEW", "+"),)),
    Trigger(
        "sales_lines_update",
        "AFTER",
        "UPDATE",
        "order_lines",
        LINE_PRODUCTS,
        (("line", "OLD", "-"), ("line", "NEW", "+")),
    ),
    Trigger("sales_lines_delete", "AFTER", "DELETE", "order_lines", (), (("line", "OLD", "-"),)),
)
STATEMENTS = {"days": _order_days, "order": _order_products, "line": _line_products}


def _create(trigger: Trigger, postgres: bool) -> list[str]:
    body = "\n".join(STATEMENTS[kind](row, sign, postgres) for kind, row, sign in trigger.body)
    event = f"UPDATE OF {', '.join(trigger.when)}" if trigger.when else trigger.event
    differs = " IS DISTINCT FROM " if postgres else " IS NOT "
    when = " OR ".join(f"OLD.{column}{differs}NEW.{column}" for column in trigger.when)
    when_clause = f" WHEN ({when})" if when else ""
    if not postgres:
        return [f"CREATE TRIGGER {trigger.name} {trigger.timing} {event} ON {trigger.table} FOR EACH ROW"
                f"{when_clause} BEGIN\n{body}\nEND"]  # fmt: skip
    # A BEFORE trigger that returned NULL would cancel the delete.
    result = "OLD" if trigger.timing == "BEFORE" else "NULL"
    return [
        f"CREATE FUNCTION {trigger.name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\n"
        f"RETURN {result};\nEND\n$$",
        f"CREATE TRIGGER {trigger.name} {trigger.timing} {event} ON {trigger.table} FOR EACH ROW"
        f"{when_clause} EXECUTE FUNCTION {trigger.name}()",
    ]


def _backfill(postgres: bool) -> list[str]:
    net = "o.total_cents - o.refunded_total_cents"
    return [
        f"INSERT INTO sales_days (day, status, orders, net_cents) "
        f"SELECT {_day('o', postgres)}, o.status, count(*), sum({net}) FROM orders AS o "
        f"GROUP BY {_day('o', postgres)}, o.status",
        f"INSERT INTO sales_products (grain, period, product_id, lines, units, revenue_cents) "
        f"SELECT g.grain, {_period('o', postgres)}, l.product_id, count(*), sum(l.quantity - l.refunded_quantity), "
        f"sum(l.line_total_cents - l.unit_price_cents * l.refunded_quantity) "
        f"FROM orders AS o JOIN order_lines AS l ON l.order_id = o.id CROSS JOIN {GRAINS} AS g "
        f"WHERE o.status IN {SOLD} GROUP BY g.grain, {_period('o', postgres)}, l.product_id",
    ]


def upgrade() -> None:
    op.create_table(
        "sales_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("net_cents", storefront.core.models.Money(), nullable=False),
        sa.PrimaryKeyConstraint("day", "status", name=op.f("pk_sales_days")),
    )
    op.create_table(
        "sales_products",
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("revenue_cents", storefront.core.models.Money(), nullable=False),
        sa.PrimaryKeyConstraint("grain", "period", "product_id", name=op.f("pk_sales_products")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # No order may change between the backfill and the triggers taking over.
        op.execute("LOCK TABLE orders, order_lines IN SHARE ROW EXCLUSIVE MODE")
    for trigger in TRIGGERS:
        for statement in _create(trigger, postgres):
            op.execute(statement)
    for statement in _backfill(postgres):
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for trigger in reversed(TRIGGERS):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger.name}" + (f" ON {trigger.table}" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {trigger.name}()")
    op.drop_table("sales_products")
    op.drop_table("sales_days")
