"""SQLite: a unit of work that reads then writes must not fail because another
connection committed in between (it used to: "database is locked", a 500)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select, update

from storefront.core.db import Database, create_engine
from storefront.core.migrate import upgrade
from storefront.identity.models import Role, User
from tests.conftest import make_settings


def _user(email: str) -> User:
    return User(email=email, name="Writer", password_hash="x", role=Role.CUSTOMER.value, is_active=True)


async def test_read_then_write_waits_for_a_concurrent_writer(tmp_path: Path) -> None:
    # A database file of its own (whatever backend the suite runs on): this is SQLite's locking.
    settings = make_settings(tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'writers.db'}", redis_url=None)
    db = Database(create_engine(settings))
    try:
        await upgrade(db.engine)
        async with db.session_scope() as session:
            session.add(_user("first@example.com"))

        async def another_writer() -> None:
            async with db.session_scope() as other:
                await other.execute(update(User).values(name="Renamed"))

        async with db.session_scope() as session:
            # Read first, as registering does (is the email taken?)...
            assert await session.scalar(select(func.count()).select_from(User)) == 1
            # ...another connection writes meanwhile: it waits for this unit of work...
            writer = asyncio.create_task(another_writer())
            await asyncio.sleep(0.3)
            # ...and this one can still write: no "database is locked".
            session.add(_user("second@example.com"))
            await session.flush()
        await asyncio.wait_for(writer, timeout=10)

        async with db.read_sessionmaker() as session:
            names = set((await session.scalars(select(User.name))).all())
        assert names == {"Renamed"}  # the waiting writer ran after, over both rows
    finally:
        await db.dispose()
