"""Catalog errors."""

from __future__ import annotations

from typing import Any

from storefront.core.errors import Conflict, InvalidInput, NotFound


class ProductNotFound(NotFound):
    def __init__(self, key: int | str) -> None:
        super().__init__(f"Product {key} not found")


class CategoryNotFound(NotFound):
    def __init__(self, category_id: int) -> None:
        super().__init__(f"Category {category_id} not found")


class UnknownCategory(InvalidInput):
    def __init__(self, slug: str) -> None:
        super().__init__("category", f"no category has the slug '{slug}'")


class CategoryTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("A category with this name or slug already exists")


class SlugTaken(Conflict):
    def __init__(self, kind: str, slug: str) -> None:
        super().__init__(f"A {kind} with the slug '{slug}' already exists")


class CategoryInUse(Conflict):
    def __init__(self, slug: str) -> None:
        super().__init__(f"Category '{slug}' still has products")


class ProductUnavailable(NotFound):
    """An order or checkout names a product that does not exist or is archived."""

    def __init__(self, product_id: int) -> None:
        super().__init__(f"Product {product_id} not found", details=[{"product_id": product_id}])


class OutOfStock(Conflict):
    code = "OUT_OF_STOCK"

    def __init__(self, shortages: list[dict[str, Any]]) -> None:
        names = ", ".join(str(item["product_id"]) for item in shortages)
        super().__init__(f"Not enough stock for product {names}", details=shortages)
