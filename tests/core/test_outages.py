"""A database that refuses, drops or locks answers 503 SERVICE_UNAVAILABLE with Retry-After, never 500."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from storefront.app import create_app
from storefront.core import migrate
from tests.conftest import PG_URL, _admin_query, make_settings
from tests.helpers import assert_error, free_port, unique_email

REGISTER = "/api/v1/auth/register"


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


def _assert_outage(response: httpx.Response) -> None:
    error = assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"] == "2"
    # Nothing of the cause leaks: no driver name, host or SQL.
    assert "asyncpg" not in error["message"]
    assert "sqlite" not in error["message"].lower()


def _registration() -> dict[str, str]:
    return {"email": unique_email("outage"), "password": "correct horse battery", "name": "Out Age"}


async def test_a_database_that_refuses_connections_answers_503(tmp_path: Path) -> None:
    # Nothing listens on this port: every connection attempt is refused.
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    async with running(create_app(make_settings(tmp_path, database_url=url, redis_url=None))) as client:
        _assert_outage(await client.post(REGISTER, json=_registration()))
        _assert_outage(await client.get("/api/v1/products"))
        assert_error(await client.get("/health/ready"), 503, "SERVICE_UNAVAILABLE")


async def test_sqlite_locked_past_the_busy_timeout_answers_503(tmp_path: Path) -> None:
    database = tmp_path / "locked.db"
    url = f"sqlite+aiosqlite:///{database}"
    settings = make_settings(tmp_path, database_url=url, redis_url=None, sqlite_busy_timeout_ms=200)
    app = create_app(settings)
    async with running(app) as client:
        await migrate.upgrade(app.state.storefront.db.engine)
        assert (await client.post(REGISTER, json=_registration())).status_code == 201
        holder = sqlite3.connect(database, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another writer (an import, say) holds the lock
            _assert_outage(await client.post(REGISTER, json=_registration()))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert (await client.post(REGISTER, json=_registration())).status_code == 201


@pytest.fixture
async def own_database(tmp_path: Path) -> AsyncIterator[str]:
    assert PG_URL is not None
    name = f"storefront_outage_{uuid.uuid4().hex[:10]}"
    await _admin_query(PG_URL, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(drivername="postgresql+asyncpg", database=name).render_as_string(False)
    finally:
        await _admin_query(PG_URL, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await _admin_query(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: runs in the PostgreSQL + Redis pass of .ci/run")
async def test_postgres_closed_to_connections_and_dropped_connections_answer_503(
    own_database: str, tmp_path: Path
) -> None:
    assert PG_URL is not None
    name = make_url(own_database).database
    app = create_app(make_settings(tmp_path, database_url=own_database, redis_url=None, db_pool_size=2))
    async with running(app) as client:
        await migrate.upgrade(app.state.storefront.db.engine)
        assert (await client.post(REGISTER, json=_registration())).status_code == 201
        # An operator closes the database and ends every session (a failover, a restore).
        await _admin_query(PG_URL, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        sessions = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"  # noqa: S608
        await _admin_query(PG_URL, sessions)
        for _ in range(3):  # the pooled connections are dead, then new ones are refused
            _assert_outage(await client.post(REGISTER, json=_registration()))
        await _admin_query(PG_URL, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        assert (await client.post(REGISTER, json=_registration())).status_code == 201


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: runs in the PostgreSQL + Redis pass of .ci/run")
async def test_postgres_out_of_connection_slots_answers_503(own_database: str, tmp_path: Path) -> None:
    assert PG_URL is not None
    # A role allowed no connection at all: the server answers as when max_connections is reached (SQLSTATE 53300).
    role = f"storefront_full_{uuid.uuid4().hex[:10]}"
    await _admin_query(PG_URL, f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
    try:
        url = make_url(own_database).set(username=role).render_as_string(False)
        async with running(create_app(make_settings(tmp_path, database_url=url, redis_url=None))) as client:
            _assert_outage(await client.post(REGISTER, json=_registration()))
    finally:
        await _admin_query(PG_URL, f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: runs in the PostgreSQL + Redis pass of .ci/run")
async def test_a_statement_stuck_past_the_deadline_answers_503(own_database: str, tmp_path: Path) -> None:
    import asyncpg

    settings = make_settings(tmp_path, database_url=own_database, redis_url=None, db_statement_timeout_seconds=0.5)
    app = create_app(settings)
    async with running(app) as client:
        await migrate.upgrade(app.state.storefront.db.engine)
        registration = _registration()
        assert (await client.post(REGISTER, json=registration)).status_code == 201
        credentials = {"email": registration["email"], "password": registration["password"]}
        login = await client.post("/api/v1/auth/login", json=credentials)
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        # Another session holds the user's row: the update waits, and is cancelled at the deadline.
        holder = await asyncpg.connect(make_url(own_database).set(drivername="postgresql").render_as_string(False))
        try:
            async with holder.transaction():
                await holder.execute("SELECT 1 FROM users WHERE email = $1 FOR UPDATE", registration["email"])
                stuck = await client.patch("/api/v1/users/me", json={"name": "Stuck"}, headers=headers)
                _assert_outage(stuck)
        finally:
            await holder.close()
        assert (await client.patch("/api/v1/users/me", json={"name": "Free"}, headers=headers)).status_code == 200
