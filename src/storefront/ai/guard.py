"""Resilience around one provider: breaker, concurrency cap, timeout, retries within a budget."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import structlog

from storefront.ai.breaker import CircuitBreaker, CircuitState
from storefront.ai.content import ProductFacts
from storefront.ai.failures import Failure, FailureKind, classify
from storefront.ai.metrics import AiMetrics
from storefront.ai.providers import ContentModel, Generation
from storefront.config import Settings

log = structlog.get_logger("storefront.ai")


class Metered(Protocol):
    """What one guarded call returns: at least the tokens it used."""

    @property
    def input_tokens(self) -> int: ...

    @property
    def output_tokens(self) -> int: ...


M = TypeVar("M", bound=Metered)


class LinkFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


@dataclass
class LinkStats:
    calls: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    timeout: float  # one attempt
    max_attempts: int
    backoff_base: float

    def delay(self, failure: Failure, attempt: int) -> float:
        """How long to wait before the next attempt: what the provider asked, else jittered backoff."""
        if failure.retry_after is not None:
            return failure.retry_after
        ceiling = self.backoff_base * 2 ** (attempt - 1)
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311 - jitter, not security


class GuardedLink:
    """One link of the chain. Not shared across processes: each process keeps its own
    breaker and counters (documented in docs/ai.md)."""

    def __init__(self, name: str, model: ContentModel, settings: Settings, metrics: AiMetrics, *, remote: bool) -> None:
        self.name = name
        self.model = model
        self.remote = remote
        self.policy = RetryPolicy(
            settings.ai_timeout_seconds, settings.ai_max_attempts, settings.ai_backoff_base_seconds
        )
        self.breaker = CircuitBreaker(settings.ai_breaker_threshold, settings.ai_breaker_cooldown_seconds)
        self.slots = asyncio.Semaphore(settings.ai_concurrency)
        self.metrics = metrics
        self.stats = LinkStats()

    def _failed(self, failure: Failure, *, counts_against_provider: bool = True) -> None:
        self.stats.failures[failure.kind] += 1
        self.metrics.failures.labels(self.name, failure.kind).inc()
        if counts_against_provider:
            self.breaker.record_failure()

    async def _attempt(self, facts: ProductFacts, deadline: float) -> Generation:
        return await self.attempt(lambda: self.model.generate(facts), deadline)

    async def attempt(
        self, operation: Callable[[], Awaitable[M]], deadline: float, *, blame_timeouts: bool = True
    ) -> M:
        """One call of ``operation`` under this link's slot, timeout, metrics and breaker verdict
        (the caller has asked ``breaker.allow()``). With ``blame_timeouts=False`` (a caller whose
        own budget is far shorter than AI_TIMEOUT_SECONDS), running out of time is not held
        against the provider: it is counted, but the breaker is not moved."""
        loop = asyncio.get_running_loop()
        try:
            # Waiting for a free slot is our own queue, not the provider's fault.
            async with asyncio.timeout(max(0.0, deadline - loop.time())):
                await self.slots.acquire()
        except TimeoutError:
            self.breaker.release()
            failure = Failure(FailureKind.TIMEOUT, "no free slot for this provider before the deadline")
            self._failed(failure, counts_against_provider=False)
            raise LinkFailed(failure) from None
        self.stats.calls += 1
        self.metrics.calls.labels(self.name).inc()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(min(self.policy.timeout, max(0.0, deadline - loop.time()))):
                generation = await operation()
        except Exception as exc:
            failure = classify(exc)
            blamed = blame_timeouts or failure.kind is not FailureKind.TIMEOUT
            self._failed(failure, counts_against_provider=blamed)
            if not blamed:
                self.breaker.release()
            log.log(
                logging.WARNING if blamed else logging.INFO,
                "ai_call_failed",
                provider=self.name,
                kind=failure.kind,
                detail=failure.detail,
            )
            raise LinkFailed(failure) from exc
        finally:
            self.slots.release()
            self.metrics.latency.labels(self.name).observe(time.perf_counter() - started)
        self.breaker.record_success()
        self.stats.input_tokens += generation.input_tokens
        self.stats.output_tokens += generation.output_tokens
        self.metrics.tokens.labels(self.name, "in").inc(generation.input_tokens)
        self.metrics.tokens.labels(self.name, "out").inc(generation.output_tokens)
        return generation

    async def call(self, facts: ProductFacts, budget: float) -> Generation:
        """Try this provider within ``budget`` seconds, retrying only throttling and server errors."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        attempt = 0
        while True:
            if not self.breaker.allow():
                failure = Failure(FailureKind.CIRCUIT_OPEN, "circuit open: provider skipped")
                self._failed(failure, counts_against_provider=False)
                raise LinkFailed(failure)
            attempt += 1
            try:
                return await self._attempt(facts, deadline)
            except asyncio.CancelledError:
                self.breaker.release()  # the caller went away: no verdict on the provider
                raise
            except LinkFailed as failed:
                failure = failed.failure
                if not failure.retryable or attempt >= self.policy.max_attempts:
                    raise
                if self.breaker.state is not CircuitState.CLOSED:
                    raise  # this failure opened the circuit: no more calls to this provider now
                delay = self.policy.delay(failure, attempt)
                if loop.time() + delay >= deadline:
                    raise  # the provider asks for more time than this call has left
                log.info("ai_retry", provider=self.name, attempt=attempt, delay=round(delay, 3), kind=failure.kind)
                await asyncio.sleep(delay)
