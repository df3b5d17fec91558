"""The Redis stream of job hand-outs: batched, and trimmed so that it cannot grow forever."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis
from taskiq import BrokerMessage

from storefront.core.jobs import BrokerUnavailable
from storefront.core.taskqueue import TASK_NAME, StreamBroker, TaskiqDispatcher, build_broker
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


async def test_a_batch_of_hand_outs_arrives_in_order_as_the_messages_workers_run(tmp_path: Path) -> None:
    # An order's jobs (and a sweep's) go out in one round trip; each must still be the
    # message taskiq's receiver decodes into a call of the job task, in the order given.
    broker = StreamBroker(str(REDIS_URL), queue_name=STREAM, consumer_group_name="test-batch")
    dispatcher = TaskiqDispatcher(broker)
    redis = Redis.from_url(str(REDIS_URL))
    await redis.delete(STREAM)
    try:
        await dispatcher.dispatch([41, 7, 1_000_003])
        await dispatcher.dispatch([])
        entries: list[tuple[bytes, dict[bytes, bytes]]] = await redis.xrange(STREAM)  # type: ignore[assignment]
        messages = [broker.formatter.loads(fields[b"data"]) for _, fields in entries]
        assert [(message.task_name, message.args, message.kwargs) for message in messages] == [
            (TASK_NAME, [41], {}),
            (TASK_NAME, [7], {}),
            (TASK_NAME, [1_000_003], {}),
        ]
        assert len({message.task_id for message in messages}) == 3
    finally:
        await redis.delete(STREAM)
        await redis.aclose()
        await broker.shutdown()


async def test_a_batch_refused_by_redis_is_broker_unavailable_and_then_skipped_at_once(tmp_path: Path) -> None:
    # Nothing listens on port 1: the jobs' rows stay pending for the sweep, and while the
    # breaker is open the next hand-outs do not wait for a timeout again.
    broker = StreamBroker("redis://127.0.0.1:1/0", queue_name=STREAM, socket_connect_timeout=1)
    dispatcher = TaskiqDispatcher(broker, timeout=2.0, retry_seconds=60.0)
    try:
        with pytest.raises(BrokerUnavailable):
            await dispatcher.dispatch([1, 2])
        with pytest.raises(BrokerUnavailable, match="moments ago"):
            await dispatcher.dispatch([3])
    finally:
        await broker.shutdown()


async def test_the_hand_outs_no_worker_has_read_are_counted() -> None:
    # The sweep asks this before it hands out pending jobs again (they may be on their way).
    broker = StreamBroker(str(REDIS_URL), queue_name=STREAM, consumer_group_name="test-waiting")
    dispatcher = TaskiqDispatcher(broker)
    redis = Redis.from_url(str(REDIS_URL))
    await redis.delete(STREAM)
    try:
        assert await dispatcher.waiting() is None  # no stream and no group yet: it cannot tell
        await broker.startup()  # declares the group
        assert await dispatcher.waiting() == 0
        await dispatcher.dispatch([11, 12, 13])
        assert await dispatcher.waiting() == 3
        await redis.xreadgroup("test-waiting", "a-worker", {STREAM: ">"}, count=2)
        assert await dispatcher.waiting() == 1
    finally:
        await redis.delete(STREAM)
        await redis.aclose()
        await broker.shutdown()
