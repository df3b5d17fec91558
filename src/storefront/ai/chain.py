"""The ordered chain of providers: the first that answers with valid content wins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import structlog
from redis.asyncio import Redis

from storefront.ai.breaker import CircuitState
from storefront.ai.budget import MemoryLedger, RedisLedger, TokenBudget, seconds_until_tomorrow
from storefront.ai.content import GeneratedContent, ProductFacts
from storefront.ai.errors import AiBudgetSpent, AiUnavailable
from storefront.ai.guard import GuardedLink, LinkFailed
from storefront.ai.metrics import AiMetrics
from storefront.ai.providers import LOCAL, ProviderUnavailable, build_model, chain_spec
from storefront.config import Settings

log = structlog.get_logger("storefront.ai")

Mode = Literal["request", "job"]


@dataclass(frozen=True, slots=True)
class ChainResult:
    content: GeneratedContent
    provider: str
    remote: bool
    input_tokens: int = 0
    output_tokens: int = 0
    cached: bool = False


@dataclass(frozen=True, slots=True)
class UnavailableLink:
    name: str
    reason: str


class ContentChain:
    def __init__(
        self,
        links: list[GuardedLink],
        unavailable: list[UnavailableLink],
        budget: TokenBudget,
        budgets: dict[Mode, float],
        metrics: AiMetrics,
        order: list[str],
    ) -> None:
        self.links = links
        self.unavailable = unavailable
        self.budget = budget
        self.budgets = budgets
        self.metrics = metrics
        self.order = order  # every configured name, available or not, for status

    @property
    def has_remote(self) -> bool:
        return any(link.remote for link in self.links)

    async def generate(self, facts: ProductFacts, mode: Mode) -> ChainResult:
        if self.has_remote and await self.budget.exhausted():
            raise AiBudgetSpent(seconds_until_tomorrow())
        attempts: list[dict[str, Any]] = []
        for link in self.links:
            try:
                generation = await link.call(facts, self.budgets[mode])
            except LinkFailed as failed:
                attempts.append({"provider": link.name, "failure": failed.failure.kind.value})
                continue
            if link.remote:
                await self.budget.spend(generation.input_tokens + generation.output_tokens)
            if attempts:
                log.info("ai_fell_back", provider=link.name, failed=attempts)
            return ChainResult(
                generation.content, link.name, link.remote, generation.input_tokens, generation.output_tokens
            )
        raise AiUnavailable(attempts)

    def circuits(self) -> dict[str, CircuitState]:
        return {link.name: link.breaker.state for link in self.links if link.remote}

    async def status(self) -> dict[str, Any]:
        by_name = {link.name: link for link in self.links}
        missing = {link.name: link.reason for link in self.unavailable}
        providers: list[dict[str, Any]] = []
        for name in self.order:
            link = by_name.get(name)
            entry: dict[str, Any] = {"name": name, "available": link is not None, "reason": missing.get(name)}
            if link is None:
                entry.update(circuit=None, calls=0, failures={}, input_tokens=0, output_tokens=0)
            else:
                entry.update(
                    circuit=link.breaker.state.value if link.remote else None,
                    calls=link.stats.calls,
                    failures=dict(link.stats.failures),
                    input_tokens=link.stats.input_tokens,
                    output_tokens=link.stats.output_tokens,
                )
            providers.append(entry)
        return {
            "providers": providers,
            "tokens_today": await self.budget.ledger.spent_today(),
            "daily_token_budget": self.budget.daily_limit or None,
        }

    async def aclose(self) -> None:
        for link in self.links:
            await link.model.aclose()


def build_chain(settings: Settings, redis: Redis | None) -> ContentChain:
    metrics = AiMetrics()
    links: list[GuardedLink] = []
    unavailable: list[UnavailableLink] = []
    order: list[str] = []
    for provider, model_name in chain_spec(settings):
        name = LOCAL if provider == LOCAL else f"{provider}:{model_name}"
        order.append(name)
        try:
            model = build_model(provider, model_name, settings)
        except ProviderUnavailable as exc:
            log.warning("ai_provider_unavailable", provider=name, reason=str(exc))
            unavailable.append(UnavailableLink(name, str(exc)))
            continue
        links.append(GuardedLink(name, model, settings, metrics, remote=provider != LOCAL))
    ledger = RedisLedger(redis) if redis is not None else MemoryLedger()
    budgets: dict[Mode, float] = {"request": settings.ai_request_budget_seconds, "job": settings.ai_job_budget_seconds}
    log.info("ai_chain", providers=[link.name for link in links], unavailable=[u.name for u in unavailable])
    return ContentChain(
        links, unavailable, TokenBudget(ledger, settings.ai_daily_token_budget), budgets, metrics, order
    )
