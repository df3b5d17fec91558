"""Order errors, with the codes of the contract."""

from __future__ import annotations

from storefront.core.errors import Conflict, NotFound


class OrderNotFound(NotFound):
    def __init__(self, order_id: int) -> None:
        super().__init__(f"Order {order_id} not found")


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"An order cannot go from {current} to {target}")


class OrderNotPayable(Conflict):
    """A payment arrived for an order that can no longer take it (cancelled or expired)."""

    def __init__(self, order_id: int, status: str) -> None:
        super().__init__(f"Order {order_id} is {status}: it can no longer be paid")
