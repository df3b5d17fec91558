"""Catalog errors."""

from __future__ import annotations

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


class SlugTaken(Conflict):
    def __init__(self, kind: str, slug: str) -> None:
        super().__init__(f"A {kind} with the slug '{slug}' already exists")


class CategoryInUse(Conflict):
    def __init__(self, slug: str) -> None:
        super().__init__(f"Category '{slug}' still has products")
