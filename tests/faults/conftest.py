"""Fixtures of the fault tests: services of their own, which they stop and start."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.faults.services import PrivateRedis


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server on PATH (apt-get install redis-server)")
    redis = PrivateRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
