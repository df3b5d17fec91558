"""Cart errors."""

from __future__ import annotations

from storefront.core.errors import Conflict, InvalidInput, NotFound


class CartProductNotFound(NotFound):
    """The product does not exist or is archived: it cannot go into a cart."""

    def __init__(self, product_id: int) -> None:
        super().__init__(f"Product {product_id} not found", details=[{"product_id": product_id}])


class CartFull(Conflict):
    def __init__(self, max_lines: int) -> None:
        super().__init__(f"A cart holds at most {max_lines} different products")


class NoShippingAddress(Conflict):
    def __init__(self) -> None:
        super().__init__("The cart has no shipping address: set one first")


class UnknownShippingOption(InvalidInput):
    def __init__(self, rate_id: int, country: str) -> None:
        super().__init__("id", f"{rate_id} is not a shipping option for {country}")
