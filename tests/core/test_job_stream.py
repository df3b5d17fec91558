"""The Redis stream of job hand-outs: trimmed so that it cannot grow forever."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis
from taskiq import BrokerMessage

from storefront.core.taskqueue import StreamBroker, build_broker
from tests.conftest import REDIS_URL, make_settings

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs Redis: runs in the PostgreSQL + Redis pass of .ci/run")

STREAM = "test:job-stream-trim"


async def test_hand_outs_sent_at_once_all_arrive_and_the_stream_is_trimmed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, redis_url=REDIS_URL, jobs_inline=False, job_stream_max_length=1_000)
    broker = build_broker(settings)
    assert isinstance(broker, StreamBroker)
    redis = Redis.from_url(str(REDIS_URL))
    await redis.delete(STREAM)
    try:

        def message(number: int) -> BrokerMessage:
            return BrokerMessage(
                task_id=f"task-{number}",
                task_name="storefront.run_job",
                message=str(number).encode(),
                labels={"queue_name": STREAM},
            )

        for number in range(200):
            await broker.kick(message(number))
        entries: list[tuple[bytes, dict[bytes, bytes]]] = await redis.xrange(STREAM)  # type: ignore[assignment]
        assert [int(fields[b"data"]) for _, fields in entries] == list(range(200))
        # 3,000 more, one after the other: the stream keeps about the last 1,000 (Redis trims
        # whole nodes of up to 100 entries), the newest always among them.
        for number in range(200, 3_200):
            await broker.kick(message(number))
        length = await redis.xlen(STREAM)
        assert 1_000 <= length <= 1_200, length
        newest: list[tuple[bytes, dict[bytes, bytes]]] = await redis.xrevrange(STREAM, count=1)  # type: ignore[assignment]
        assert int(newest[0][1][b"data"]) == 3_199
    finally:
        await redis.delete(STREAM)
        await redis.aclose()
        await broker.shutdown()
