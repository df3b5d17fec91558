"""Typing aliases for SQLAlchemy 2.1's variadic generics."""

from typing import Any

from sqlalchemy import Row, Select

AnySelect = Select[*tuple[Any, ...]]
AnyRow = Row[*tuple[Any, ...]]
