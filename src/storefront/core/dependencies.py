"""FastAPI dependencies shared by every domain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.core.state import AppState

API_PREFIX = "/api/v1"


# Every dependency here and in the domains is `async def`: FastAPI runs a plain
# `def` dependency in a worker thread, a thread hop on every request.
async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.storefront
    return state


StateDep = Annotated[AppState, Depends(get_state)]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _session(state: StateDep, request: Request) -> AsyncIterator[AsyncSession]:
    # Safe methods never write, so on SQLite they need not queue for the write lock.
    async with state.db.session_scope(immediate=request.method not in SAFE_METHODS) as session:
        yield session


# scope="function": the unit of work ends (commits) when the endpoint returns and
# before the response is sent, so a failing commit can never answer 2xx.
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]


async def _write_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    # For a safe method that may still write (GET /cart creates the cart on first
    # use): on SQLite a write inside a read transaction fails with "database is
    # locked" when another connection committed since the read, so this unit of
    # work takes the write lock at BEGIN whatever the method.
    async with state.db.session_scope(immediate=True) as session:
        yield session


WriteSessionDep = Annotated[AsyncSession, Depends(_write_session, scope="function")]
