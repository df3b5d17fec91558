"""Calls that arrive together, sent as one: a batch per turn of the event loop.

A worker is handed jobs in groups (up to a hundred from Redis, two hundred from a sweep),
and each job's claim and outcome is one small statement. Sent one by one they were a fifth
of a worker's CPU; ``Batches`` sends the ones asked for while no batch is on its way as one
statement (docs/performance.md, issue 16 row 5).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Result = TypeVar("Result")


class Batches(Generic[Key, Result]):
    """``await batches.ask(key)``: the result ``send`` gave for that key (``missing`` when it
    gave none). The keys asked for while a batch is on its way go out as the next one; a
    batch that fails fails every call in it."""

    def __init__(self, send: Callable[[list[Key]], Awaitable[dict[Key, Result]]], missing: Result) -> None:
        self._send = send
        self._missing = missing
        self._asked: list[tuple[Key, asyncio.Future[Result]]] = []
        self._sending: asyncio.Task[None] | None = None

    async def ask(self, key: Key) -> Result:
        waiter: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._asked.append((key, waiter))
        if self._sending is None:
            self._sending = asyncio.create_task(self._send_asked())
        return await waiter

    async def settled(self) -> None:
        """Wait for a batch still on its way (its callers may have been cancelled meanwhile:
        what it did must be known before a worker hands its jobs back)."""
        if self._sending is not None:
            await asyncio.gather(self._sending, return_exceptions=True)

    async def _send_asked(self) -> None:
        try:
            while self._asked:
                asked, self._asked = self._asked, []
                try:
                    outcome: dict[Key, Result] | Exception = await self._send([key for key, _ in asked])
                except Exception as exc:
                    outcome = exc  # every call in the statement sees its failure
                except BaseException:
                    self._asked = asked + self._asked  # cut short itself: cancelled below
                    raise
                for key, waiter in asked:
                    if waiter.done():  # cancelled meanwhile (a worker stopping)
                        continue
                    if isinstance(outcome, Exception):
                        waiter.set_exception(outcome)
                    else:  # a key asked for twice gets the result once
                        waiter.set_result(outcome.pop(key, self._missing))
        finally:
            self._sending = None
            for _, waiter in self._asked:  # only when cut short (the loop is closing)
                waiter.cancel()
            self._asked = []
