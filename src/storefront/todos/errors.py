"""Todos' own errors."""

from __future__ import annotations

from storefront.core.errors import NotFound


class TodoNotFound(NotFound):
    def __init__(self, todo_id: int) -> None:
        super().__init__(f"Todo {todo_id} not found")
