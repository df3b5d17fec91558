"""Alembic, driven from code: ``storefront db upgrade`` and the embedded auto-upgrade."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

SCRIPT_LOCATION = "storefront:migrations"

# Schema objects that migrations create by hand because they differ per backend
# (full-text search); autogenerate must neither add nor drop them.
BACKEND_SPECIFIC_PREFIXES = ("products_fts", "search_vector", "ix_products_search")


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (name or "").startswith(BACKEND_SPECIFIC_PREFIXES)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        # env.py runs on this connection instead of opening its own.
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


def _downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade, revision)


@cache
def _known_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """This code's head revisions, and every revision it knows."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return frozenset(scripts.get_heads()), frozenset(script.revision for script in scripts.walk_revisions())


def _schema_behind(connection: Connection) -> str | None:
    heads, known = _known_revisions()
    current = frozenset(MigrationContext.configure(connection).get_current_heads())
    if not current:
        return "not migrated: run `storefront db upgrade`"
    if current == heads or not current <= known:
        # At our head, or ahead of this code (a newer release migrated first, as a rolling
        # deploy does): both fine for serving.
        return None
    return f"behind: at {', '.join(sorted(current))}, this code needs {', '.join(sorted(heads))}"


async def schema_behind(engine: AsyncEngine) -> str | None:
    """Why the database's schema cannot serve this code, or None when it can."""
    async with engine.connect() as connection:
        return await connection.run_sync(_schema_behind)
