"""The once-only email claim: a stale claim is taken over by one attempt, never two."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storefront.orders.models import SentEmail
from storefront.orders.repository import OrderRepository


@pytest.fixture
async def stale_key(engine: AsyncEngine) -> AsyncIterator[str]:
    key = f"test-claim:{uuid.uuid4().hex}"
    async with engine.begin() as connection:  # a claim whose worker died a while ago
        await connection.execute(insert(SentEmail).values(key=key, claimed_at=datetime.now(UTC) - timedelta(hours=1)))
    yield key
    async with engine.begin() as connection:
        await connection.execute(delete(SentEmail).where(SentEmail.key == key))


async def test_two_attempts_that_found_the_same_stale_claim_cannot_both_take_it(
    engine: AsyncEngine, stale_key: str
) -> None:
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    now = datetime.now(UTC)
    async with sessions() as first, sessions() as second:
        # Both read the stale claim before either takes it over.
        seen_first = await OrderRepository(first).sent_email(stale_key)
        seen_second = await OrderRepository(second).sent_email(stale_key)
        assert seen_first is not None
        assert seen_second is not None
        await first.commit()  # SQLite: end the reads so either session may write (the
        await second.commit()  # rows stay loaded: expire_on_commit=False)
        assert await OrderRepository(first).claim_email(stale_key, now, seen_first)
        await first.commit()
        later = now + timedelta(milliseconds=110)
        assert not await OrderRepository(second).claim_email(stale_key, later, seen_second)
        await second.commit()
    async with engine.connect() as connection:
        claimed_at = await connection.scalar(select(SentEmail.claimed_at).where(SentEmail.key == stale_key))
    assert claimed_at == now  # the winner's claim stands


async def test_a_claim_taken_over_by_nobody_else_is_ours(engine: AsyncEngine, stale_key: str) -> None:
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    now = datetime.now(UTC)
    async with sessions() as session:
        previous = await OrderRepository(session).sent_email(stale_key)
        assert await OrderRepository(session).claim_email(stale_key, now, previous)
        await session.commit()
    async with engine.connect() as connection:
        assert await connection.scalar(select(SentEmail.claimed_at).where(SentEmail.key == stale_key)) == now
