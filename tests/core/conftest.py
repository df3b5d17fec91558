"""Fixtures of the core tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storefront.config import Settings
from storefront.core.db import Database, create_engine
from storefront.core.jobs import Job
from storefront.core.logging import configure_logging


@pytest.fixture
async def committing_db(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Database]:
    """A database whose units of work really commit (runs in parallel cannot share the
    test's one connection); the jobs written meanwhile are deleted afterwards. ``engine``:
    the migrated schema. Logging goes to this test's stderr: the runner logs, and an
    earlier test may have left it on a stream pytest has closed since."""
    configure_logging()
    db = Database(create_engine(settings))
    async with db.session_scope() as session:
        last = await session.scalar(select(func.max(Job.id))) or 0
    try:
        yield db
    finally:
        async with db.session_scope() as session:
            await session.execute(delete(Job).where(Job.id > last))
        await db.dispose()
