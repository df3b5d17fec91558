"""The daily token budget, shared by every remote provider (and by every process with Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger("storefront.ai.budget")


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def seconds_until_tomorrow() -> int:
    now = datetime.now(UTC)
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return max(1, int((tomorrow - now).total_seconds()))


class TokenLedger(Protocol):
    async def spent_today(self) -> int: ...

    async def add(self, tokens: int) -> None: ...


class MemoryLedger:
    """Per process: right for the embedded default, where one process serves everything."""

    def __init__(self) -> None:
        self._day, self._spent = _today(), 0

    def _roll(self) -> None:
        if (day := _today()) != self._day:
            self._day, self._spent = day, 0

    async def spent_today(self) -> int:
        self._roll()
        return self._spent

    async def add(self, tokens: int) -> None:
        self._roll()
        self._spent += tokens


class RedisLedger:
    """One counter per UTC day across every API process and worker.

    If Redis cannot answer, spending is allowed (and logged): a budget check must not
    take content generation down with it.
    """

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    @staticmethod
    def _key() -> str:
        return f"storefront:ai:tokens:{_today()}"

    async def spent_today(self) -> int:
        try:
            value = await self.redis.get(self._key())
        except (RedisError, OSError) as exc:
            log.warning("ai_budget_unreadable", error=repr(exc))
            return 0
        return int(value or 0)

    async def add(self, tokens: int) -> None:
        key = self._key()
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incrby(key, tokens)
                pipe.expire(key, 2 * 24 * 3600)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("ai_budget_unwritable", error=repr(exc), tokens=tokens)


class TokenBudget:
    def __init__(self, ledger: TokenLedger, daily_limit: int) -> None:
        self.ledger = ledger
        self.daily_limit = daily_limit  # 0: no limit

    async def exhausted(self) -> bool:
        return self.daily_limit > 0 and await self.ledger.spent_today() >= self.daily_limit

    async def spend(self, tokens: int) -> None:
        if tokens > 0:
            await self.ledger.add(tokens)
