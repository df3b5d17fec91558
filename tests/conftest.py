"""Fixtures: one migrated database per run (SQLite, or PostgreSQL when
STOREFRONT_TEST_DATABASE_URL is set), each test inside a transaction that is
rolled back, and Redis when STOREFRONT_TEST_REDIS_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from storefront.app import create_app
from storefront.catalog.models import Product
from storefront.config import Settings
from storefront.core import migrate
from storefront.core.db import create_engine
from storefront.core.jobs import Job
from storefront.runtime import Runtime
from tests.helpers import Api, clean_committed


def _redis_url_of_this_worker(url: str | None) -> str | None:
    """Under pytest-xdist, worker N uses the database N after the one named (modulo 16):
    tests flush their Redis database, so two workers must never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + int(worker[2:])) % 16}"))


PG_URL = os.environ.get("STOREFRONT_TEST_DATABASE_URL")
REDIS_URL = _redis_url_of_this_worker(os.environ.get("STOREFRONT_TEST_REDIS_URL"))
TEST_SECRET = "test-secret-" + "x" * 60  # long enough for HS512 too (the algorithm-swap test)


def pytest_report_header() -> list[str]:
    database = make_url(PG_URL).render_as_string(hide_password=True) if PG_URL else "SQLite (temporary file)"
    return [f"storefront: database={database} redis={REDIS_URL or 'not configured (in-process)'}"]


async def _admin_query(url: str, statement: str) -> None:
    import asyncpg

    target = make_url(url).set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(target.render_as_string(hide_password=False))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if not PG_URL:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    # A database of its own per run, so concurrent runs never meet.
    name = f"storefront_test_{uuid.uuid4().hex[:12]}"
    await _admin_query(PG_URL, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        await _admin_query(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp,
        "jwt_secret": TEST_SECRET,
        "redis_url": REDIS_URL,
        "auto_migrate": False,
        # Real argon2id, at a cost that keeps the suite fast.
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 8192,
        "password_hash_parallelism": 1,
        "log_format": "console",
        # Jobs run inside the request that enqueued them: deterministic, and never
        # concurrent with the test on its shared connection.
        "jobs_inline": True,
        # A new PostgreSQL connection took over the 5 s default on a loaded CI machine
        # (a refund in a concurrency test answered 503); the tests about connect
        # timeouts set their own.
        "db_connect_timeout_seconds": 30.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("data"), database_url=database_url)


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


def bind_to_connection(app: FastAPI, connection: AsyncConnection) -> None:
    """Every unit of work of the app becomes a savepoint inside the test's transaction."""
    state: Runtime = app.state.storefront
    state.db.sessionmaker = async_sessionmaker(
        bind=connection, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
    )

    @asynccontextmanager
    async def reader() -> AsyncIterator[AsyncConnection]:
        yield connection

    state.db.reader = reader
    state.db.read_sessionmaker = async_sessionmaker(bind=connection, expire_on_commit=False, autoflush=False)
    state.db.autocommit_sessionmaker = async_sessionmaker(
        bind=connection, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
    )
    state.db.autocommits = False  # each block a savepoint: the test's transaction holds it all


async def reset_redis(state: Runtime) -> None:
    # Rate-limit windows and cached reads would otherwise carry over from one test
    # to the next; the test Redis database is the suite's alone.
    if state.redis is not None:
        await state.redis.flushdb()


@pytest.fixture
async def app(settings: Settings, connection: AsyncConnection) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        bind_to_connection(app, connection)
        await reset_redis(app.state.storefront)
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


@pytest.fixture
def api(client: httpx.AsyncClient, app: FastAPI) -> Api:
    return Api(client, app)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def live(settings: Settings, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Api]:
    """The app on the real engine: each request commits on its own connection (for real
    concurrency); what the test committed is deleted afterwards."""
    async with engine.connect() as connection:
        last_job = await connection.scalar(select(Job.id).order_by(Job.id.desc()).limit(1)) or 0
        products = await connection.scalar(select(func.count()).select_from(Product))
    app = create_app(make_settings(tmp_path, database_url=settings.resolved_database_url))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=60) as client,
    ):
        if app.state.storefront.redis is not None:
            await app.state.storefront.redis.flushdb()
        api = Api(client, app)
        try:
            yield api
        finally:
            await clean_committed(engine, last_job)
            # A product left behind changes what later tests on this worker see (a seeded
            # order history once picked one up): name them for clean_committed.
            async with engine.connect() as connection:
                left = await connection.scalar(select(func.count()).select_from(Product))
            assert left == products, "this test left products committed: name them as contended() does"


AppFactory = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_api(settings: Settings, connection: AsyncConnection) -> AsyncIterator[AppFactory]:
    """Build extra apps with other settings, sharing the test's transaction."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> Api:
            app = create_app(settings.model_copy(update=overrides))
            await stack.enter_async_context(app.router.lifespan_context(app))
            bind_to_connection(app, connection)
            await reset_redis(app.state.storefront)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
            )
            return Api(client, app)

        yield make
