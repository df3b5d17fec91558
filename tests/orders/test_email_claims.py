"""The once-only email claim: one attempt claims a key; a stale claim is taken over by one
attempt, never two; a sent email is never claimed again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storefront.orders.models import SentEmail
from storefront.orders.repository import EmailClaim, OrderRepository


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
        assert await OrderRepository(first).take_over_email(stale_key, seen_first.claimed_at, now)
        await first.commit()
        later = now + timedelta(milliseconds=110)
        assert not await OrderRepository(second).take_over_email(stale_key, seen_second.claimed_at, later)
        await second.commit()
    async with engine.connect() as connection:
        claimed_at = await connection.scalar(select(SentEmail.claimed_at).where(SentEmail.key == stale_key))
    assert claimed_at == now  # the winner's claim stands


async def test_a_claim_taken_over_by_nobody_else_is_ours(engine: AsyncEngine, stale_key: str) -> None:
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    now = datetime.now(UTC)
    async with sessions() as session:
        claim = await OrderRepository(session).claim_email(stale_key, now, stale_before=now - timedelta(minutes=1))
        assert claim is EmailClaim.OURS
        await session.commit()
    async with engine.connect() as connection:
        assert await connection.scalar(select(SentEmail.claimed_at).where(SentEmail.key == stale_key)) == now


async def test_a_key_is_claimed_once_until_stale_and_never_once_sent(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    key, now = f"test-claim:{uuid.uuid4().hex}", datetime.now(UTC)
    lease = timedelta(seconds=60)
    try:
        async with sessions() as session:
            orders = OrderRepository(session)
            assert await orders.claim_email(key, now, stale_before=now - lease) is EmailClaim.OURS
            assert await orders.claim_email(key, now, stale_before=now - lease) is EmailClaim.HELD
            later = now + 2 * lease  # the first claim is stale by then: taken over
            assert await orders.claim_email(key, later, stale_before=later - lease) is EmailClaim.OURS
            await orders.mark_email_sent(key, later)
            much_later = later + 10 * lease
            assert await orders.claim_email(key, much_later, stale_before=much_later - lease) is EmailClaim.SENT
            await session.commit()
    finally:
        async with engine.begin() as connection:
            await connection.execute(delete(SentEmail).where(SentEmail.key == key))
