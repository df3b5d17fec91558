"""Engine, sessions and the unit of work.

One ``session_scope()`` per use case: it commits on success and rolls back on any
exception. Services and repositories flush at most; they never commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from uuid import uuid4

import structlog
from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storefront.config import Settings
from storefront.core.errors import AppError

log = structlog.get_logger("storefront.db")
AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` once the unit of work has committed (cache invalidation,
    wake-ups). Never run when it rolls back; a failing callback is logged, since
    the data it follows is already committed."""
    session.info.setdefault("after_commit", []).append(callback)


async def _run_after_commit(session: AsyncSession) -> None:
    for callback in session.info.pop("after_commit", []):
        try:
            await callback()
        except Exception:
            log.exception("after_commit_failed")


def _sqlite_engine(url: URL, settings: Settings, *, autocommit: bool, **options: Any) -> AsyncEngine:
    if url.database and url.database != ":memory:":
        from pathlib import Path

        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000}, **options)
    busy_ms = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin:
        # the module's implicit BEGIN breaks SAVEPOINT (tests nest transactions).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # An autocommit connection has no transaction to begin: each statement commits on
        # its own, as on PostgreSQL (a BEGIN here made its writes vanish at checkin).
        if autocommit or connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return
        # BEGIN IMMEDIATE for units of work that read then write (orders): taking
        # the write lock up front avoids SQLite's deadlock on lock upgrade.
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid4().hex}__"


def _postgres_engine(url: URL, settings: Settings, **options: Any) -> AsyncEngine:
    server_settings = {"application_name": "storefront"}
    # PgBouncer refuses unknown start-up parameters: there, set it on the role instead
    # (ALTER ROLE … SET statement_timeout; docs/deployment.md#pgbouncer).
    if settings.db_statement_timeout_seconds and not settings.database_pgbouncer:
        server_settings["statement_timeout"] = str(int(settings.db_statement_timeout_seconds * 1000))
    connect_args: dict[str, Any] = {"timeout": settings.db_connect_timeout_seconds, "server_settings": server_settings}
    if settings.database_pgbouncer:
        # PgBouncer in transaction mode hands each transaction to whichever server
        # connection is free, so a statement prepared in one transaction is unknown to
        # the next: no statement caches (asyncpg's nor SQLAlchemy's), and names that
        # never collide with another client's statement on a shared server connection.
        connect_args |= {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _unique_statement_name,
        }
    return create_async_engine(
        url,
        **options,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_recycle=settings.db_pool_recycle_seconds,
        pool_pre_ping=settings.db_pool_pre_ping,
        connect_args=connect_args,
    )


def create_engine(settings: Settings, *, autocommit: bool = False) -> AsyncEngine:
    """The engine for units of work, or (``autocommit``) the one for transaction-free reads.

    The read engine has its own pool of connections that live in autocommit mode:
    no BEGIN/COMMIT around a single SELECT, no isolation switch at checkout and no
    ROLLBACK at checkin (measured: ~500 → ~340 µs per primary-key read).
    """
    url = make_url(settings.resolved_database_url)
    # Behind PgBouncer every statement needs a transaction around it: SQLAlchemy prepares
    # a statement, then runs it, and outside a transaction PgBouncer may send the two to
    # different servers ("prepared statement ... does not exist"; measured: 860 of 1,000
    # autocommit reads failed, 0 of 1,000 in transactions; docs/deployment.md#pgbouncer).
    autocommit = autocommit and not settings.database_pgbouncer
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None} if autocommit else {}
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, settings, autocommit=autocommit, **options)
    return _postgres_engine(url, settings, **options)


class Database:
    """The engine and its session factory; one per application instance."""

    def __init__(self, engine: AsyncEngine, read_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        self.read_engine = read_engine or engine.execution_options(isolation_level="AUTOCOMMIT")
        # Tests replace this factory with one bound to a connection inside an
        # outer transaction, so everything a test writes is rolled back.
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, expire_on_commit=False, autoflush=False
        )
        # Reads that need no transaction (single statements) run in autocommit:
        # no BEGIN/COMMIT round trips around a primary-key lookup.
        self.reader: Callable[[], AbstractAsyncContextManager[AsyncConnection]] = self.read_engine.connect
        # Sessions for read-only lookups (authentication): no transaction held,
        # so they never pin a connection or a lock for the rest of the request.
        self.read_sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.read_engine, expire_on_commit=False, autoflush=False
        )
        # ``autocommit_scope``'s sessions (tests bind them to savepoints of their transaction).
        self.autocommit_sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.read_engine, expire_on_commit=False, autoflush=False
        )
        # False behind PgBouncer, whose "read" engine runs transactions (``create_engine``).
        # (An engine's own isolation level is kept on its dialect; one derived by
        # ``execution_options`` carries it in its options.)
        levels = (
            getattr(self.read_engine.dialect, "_on_connect_isolation_level", None),
            self.read_engine.get_execution_options().get("isolation_level"),
        )
        self.autocommits = "AUTOCOMMIT" in levels

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session_scope(self, *, immediate: bool = True) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block succeeds, rolled back otherwise.

        ``immediate`` (SQLite only): take the write lock at BEGIN. A unit of work
        that reads and then writes cannot do otherwise on SQLite: if another
        connection commits between its first read and its first write, SQLite
        refuses the upgrade at once ("database is locked"; the busy timeout does
        not apply to a stale snapshot). Writers queue on the lock instead. Pass
        ``immediate=False`` only for work that never writes (safe HTTP methods);
        plain reads belong on ``reader()``/``read_sessionmaker``.
        """
        async with self.sessionmaker() as session:
            if immediate and self.dialect == "sqlite":
                await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            try:
                yield session
            except AppError as exc:
                if exc.keep_changes:
                    await session.commit()
                    await _run_after_commit(session)
                else:
                    await session.rollback()
                raise
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()
                await _run_after_commit(session)

    @asynccontextmanager
    async def autocommit_scope(self) -> AsyncIterator[AsyncSession]:
        """Statements that each commit on their own: no BEGIN and no COMMIT round trips.

        For work whose every write is one atomic statement that may land alone: an
        idempotent claim, a job's outcome, an insert guarded by a unique key. It saves two
        round trips per statement where a unit of work would wrap one (on the worker's hot
        path, half its statements: docs/performance.md, issue 16 row 5). Behind PgBouncer
        (no autocommit there) and in the tests the block is one transaction instead: write
        it to be correct either way. After-commit callbacks run at the end of the block;
        on an error too when its statements have committed already (autocommit).
        """
        async with self.autocommit_sessionmaker() as session:
            try:
                yield session
            except BaseException:
                if self.autocommits:
                    await _run_after_commit(session)
                else:
                    await session.rollback()
                raise
            await session.commit()
            await _run_after_commit(session)

    async def ping(self, timeout: float) -> None:
        async def _ping() -> None:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

        await asyncio.wait_for(_ping(), timeout)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine.sync_engine is not self.engine.sync_engine:
            await self.read_engine.dispose()
