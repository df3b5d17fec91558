"""Prometheus metrics, one registry per application so the app can be built twice."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )

    def add_gauges(self, name: str, documentation: str, read: Callable[[], dict[str, float]]) -> None:
        """A gauge family read at scrape time (pool use, queue depth)."""
        self.registry.register(_CallbackGauge(name, documentation, read))


class _CallbackGauge(Collector):
    def __init__(self, name: str, documentation: str, read: Callable[[], dict[str, float]]) -> None:
        self._name = name
        self._documentation = documentation
        self._read = read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(self._name, self._documentation, labels=["kind"])
        for kind, value in self._read().items():
            family.add_metric([kind], value)
        yield family

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return [GaugeMetricFamily(self._name, self._documentation, labels=["kind"])]
