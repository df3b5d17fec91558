"""Prometheus metrics per provider, exposed on the app's registry through one collector.

The metric objects belong to the chain (built in the lifespan); the collector is
registered once per app and reads whichever chain the app is running, so an app
can be started twice without registering names twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from storefront.ai.breaker import CircuitState

CIRCUIT_VALUES = {CircuitState.CLOSED: 0.0, CircuitState.HALF_OPEN: 1.0, CircuitState.OPEN: 2.0}


class AiMetrics:
    def __init__(self) -> None:
        self.calls = Counter("ai_calls", "Calls to AI providers (each attempt).", ["provider"], registry=None)
        self.failures = Counter("ai_failures", "Failed AI provider calls by kind.", ["provider", "kind"], registry=None)
        self.latency = Histogram(
            "ai_call_duration_seconds",
            "Latency of AI provider calls (each attempt).",
            ["provider"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0),
            registry=None,
        )
        self.tokens = Counter("ai_tokens", "Tokens used by AI providers.", ["provider", "direction"], registry=None)
        self.expansions = Counter(
            "ai_search_expansions", "Search query expansions by outcome (docs/ai.md).", ["outcome"], registry=None
        )

    def families(self, circuits: dict[str, CircuitState]) -> Iterable[Metric]:
        for metric in (self.calls, self.failures, self.latency, self.tokens, self.expansions):
            yield from metric.collect()
        gauge = GaugeMetricFamily(
            "ai_circuit_state", "Circuit per AI provider: 0 closed, 1 half-open, 2 open.", labels=["provider"]
        )
        for provider, state in circuits.items():
            gauge.add_metric([provider], CIRCUIT_VALUES[state])
        yield gauge


class AiCollector(Collector):
    """Registered on the app's registry; ``source`` returns the running chain's metrics, if any."""

    def __init__(self, source: Callable[[], tuple[AiMetrics, dict[str, CircuitState]] | None]) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        current = self._source()
        if current is not None:
            yield from current[0].families(current[1])

    def describe(self) -> Iterable[Metric]:
        return []
