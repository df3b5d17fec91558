"""Order errors, with the codes of the contract."""

from __future__ import annotations

from typing import Any

from storefront.core.errors import Conflict, InvalidInput, NotFound


class OrderNotFound(NotFound):
    def __init__(self, order_id: int) -> None:
        super().__init__(f"Order {order_id} not found")


class ProductUnavailable(NotFound):
    def __init__(self, product_id: int) -> None:
        super().__init__(f"Product {product_id} not found", details=[{"product_id": product_id}])


class OutOfStock(Conflict):
    code = "OUT_OF_STOCK"

    def __init__(self, shortages: list[dict[str, Any]]) -> None:
        names = ", ".join(str(item["product_id"]) for item in shortages)
        super().__init__(f"Not enough stock for product {names}", details=shortages)


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"An order cannot go from {current} to {target}")


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"

    def __init__(self) -> None:
        super().__init__("A request with this Idempotency-Key is still being processed; retry shortly")


class IdempotencyKeyReused(InvalidInput):
    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self) -> None:
        super().__init__("Idempotency-Key", "was already used with a different request body")
        self.message = "This Idempotency-Key was already used with a different request body"
