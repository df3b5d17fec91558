"""The base of every domain's repository: queries through the unit of work's session."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Executable, Insert, Result, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.models import Base

RowT = TypeVar("RowT", bound=Base)


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, for the statements ``run_prebuilt`` runs (typed as the Table it is)."""
    return cast(Table, model.__table__)


def insert_unless_present(table: Table, keys: list[str], *returning: ColumnElement[Any]) -> dict[str, Insert]:
    """``INSERT .. ON CONFLICT (keys) DO NOTHING RETURNING ..``, built once per dialect (by its
    name): one statement that adds a row unless one with the same keys exists."""
    return {
        dialect: insert(table).on_conflict_do_nothing(index_elements=keys).returning(*returning)
        for dialect, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
    }


async def run_prebuilt(
    session: AsyncSession, statement: Executable, params: dict[str, Any] | list[dict[str, Any]]
) -> Result[Any]:
    """Run a statement built once at import (table columns, values as bound parameters) on
    the session's connection, in its transaction.

    For the hot paths' writes. Through ``session.execute`` an INSERT or UPDATE is copied
    per call by the ORM (an annotated copy whose cache key is computed afresh, and bulk
    rows converted attribute by attribute), which cost more CPU than the statement's round
    trip; on the connection it is compiled once and reused (docs/performance.md, issue 16
    row 4). Nothing the session holds is refreshed: the callers read what they need from
    RETURNING.
    """
    connection = await session.connection()
    return await connection.execute(statement, params)


class Repository:
    """Holds the session it was given; never commits (the unit of work does)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: RowT) -> RowT:
        """Add a row and flush, so its id is known and a constraint fails here, not at commit."""
        self.session.add(row)
        await self.session.flush()
        return row
