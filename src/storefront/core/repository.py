"""The base of every domain's repository: queries through the unit of work's session."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.models import Base

RowT = TypeVar("RowT", bound=Base)


class Repository:
    """Holds the session it was given; never commits (the unit of work does)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: RowT) -> RowT:
        """Add a row and flush, so its id is known and a constraint fails here, not at commit."""
        self.session.add(row)
        await self.session.flush()
        return row
