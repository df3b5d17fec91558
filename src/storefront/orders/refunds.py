"""What a refund asks for, checked against what the order was paid and already refunded.

The check here gives clear errors; the repository's conditional UPDATEs (and the
table's CHECK constraints) are what hold under concurrency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from storefront.core.errors import Conflict, InvalidInput
from storefront.orders.models import PAID_STATUSES, Order


@dataclass(frozen=True, slots=True)
class RefundPlan:
    amount: Decimal
    lines: dict[int, int]  # product id → units refunded


@dataclass(frozen=True, slots=True)
class RefundReserved:
    amount: Decimal
    lines: dict[int, int]
    order: Order


class RefundExceedsPayment(Conflict):
    def __init__(self, order_id: int, refundable: Decimal) -> None:
        super().__init__(
            f"Order {order_id} has {refundable:.2f} left to refund", details=[{"refundable": f"{refundable:.2f}"}]
        )


def plan_refund(order: Order, amount: Decimal | None, lines: Mapping[int, int]) -> RefundPlan:
    if order.status not in PAID_STATUSES:
        raise Conflict(f"Order {order.id} is {order.status}: only a paid order can be refunded")
    refundable = order.total - order.refunded_total
    by_product = {line.product_id: line for line in order.lines}
    value = Decimal(0)
    for index, (product_id, quantity) in enumerate(lines.items()):
        line = by_product.get(product_id)
        if line is None:
            raise InvalidInput(f"lines.{index}.product_id", f"order {order.id} has no product {product_id}")
        left = line.quantity - line.refunded_quantity
        if quantity > left:
            raise Conflict(
                f"Only {left} of product {product_id} are left to refund",
                details=[{"product_id": product_id, "requested": quantity, "refundable": left}],
            )
        value += line.unit_price * quantity
    if amount is None and not lines:
        # The whole order: what is left of its money, and every unit not refunded yet.
        amount = refundable
        lines = {line.product_id: line.quantity - line.refunded_quantity for line in order.lines}
        lines = {product_id: quantity for product_id, quantity in lines.items() if quantity > 0}
    elif amount is None:
        amount = value
    if amount <= 0:
        raise Conflict(f"Order {order.id} has nothing left to refund")
    if amount > refundable:
        raise RefundExceedsPayment(order.id, refundable)
    return RefundPlan(amount, dict(lines))
