"""Benchmarks: run with `./dev bench` (see docs/performance.md)."""
