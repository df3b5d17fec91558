"""The taskiq side of the job system: which broker, and the one task it carries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from taskiq import AckableMessage, AsyncBroker, BrokerMessage, InMemoryBroker, TaskiqMessage
from taskiq.exceptions import SendTaskError
from taskiq_redis import RedisStreamBroker

from storefront.config import Settings
from storefront.core.fallback import REDIS_FAILURES, Breaker
from storefront.core.jobs import BrokerUnavailable, JobRunner

log = structlog.get_logger("storefront.jobs")
# taskiq wraps the broker's errors (redis-py's) in its own.
_SEND_FAILURES: tuple[type[Exception], ...] = (SendTaskError, *REDIS_FAILURES)
# A stream or group that does not exist yet is a ResponseError.
_LOOKUP_FAILURES: tuple[type[Exception], ...] = (ResponseError, TimeoutError, *REDIS_FAILURES)

TASK_NAME = "storefront.run_job"
QUEUE = "storefront:jobs"


class StreamBroker(RedisStreamBroker):
    """taskiq-redis's stream broker, made to outlive a Redis outage in a worker.

    Its ``listen`` raises on the first error, and taskiq's receiver then calls it again at
    once: a worker whose Redis is down spun a core and wrote a warning per loop. And a
    Redis that comes back empty (restarted without persistence) has no consumer group,
    so every read failed with NOGROUP for good and no job ran again. Here the worker
    waits (0.5 s doubling to 5 s), declares the group again, and goes on; the jobs handed
    out meanwhile are still rows, and the sweep hands them out again.
    """

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        # One client over the broker's pool for every send and acknowledgement. taskiq-redis
        # builds a client per message (``Redis(connection_pool=...)``), and building one
        # copies redis-py's table of response callbacks: a tenth of an order's CPU in a
        # profile of the checkout, once per job in a worker (docs/performance.md, row 4).
        # A command still takes a connection from the pool and gives it back.
        self._client = Redis(connection_pool=self.connection_pool)

    async def kick(self, message: BrokerMessage) -> None:
        await self.kick_many([message])

    async def kick_many(self, messages: Sequence[BrokerMessage]) -> None:
        """Every message in one round trip (a pipeline of XADDs, not a transaction)."""
        async with self._client.pipeline(transaction=False) as pipe:
            for message in messages:
                pipe.xadd(
                    message.labels.get("queue_name") or self.queue_name,
                    {b"data": message.message},
                    maxlen=self.maxlen,
                    approximate=self.approximate,
                )
            await pipe.execute()

    async def waiting_in_group(self) -> int | None:
        """The consumer group's lag: entries added and not yet delivered to any consumer."""
        for group in await self._client.xinfo_groups(self.queue_name):
            name = group.get("name")
            if name in (self.consumer_group_name, self.consumer_group_name.encode()):
                lag = group.get("lag")
                return None if lag is None else int(lag)
        return None  # no group yet: no worker has started

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        async def acknowledge() -> None:
            # Redis went away after the job ran: the job's row says done, so a redelivery
            # (of a message that Redis may not even keep) claims nothing. Not worth a traceback.
            try:
                await self._client.xack(queue_name, self.consumer_group_name, id)
            except REDIS_FAILURES as exc:
                log.warning("broker_ack_failed", error=repr(exc)[:300])

        return acknowledge

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        delay = 0.5
        while True:
            try:
                async for message in super().listen():
                    delay = 0.5
                    yield message
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                log.warning("broker_group_missing", queue=self.queue_name)
            except REDIS_FAILURES as exc:
                log.warning("broker_unavailable", error=repr(exc)[:300], retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            try:
                await self._declare_consumer_group()
            except REDIS_FAILURES as exc:
                log.debug("broker_group_not_declared", error=repr(exc)[:300])


def build_broker(settings: Settings) -> AsyncBroker:
    if settings.jobs_inline:
        return InMemoryBroker(await_inplace=True)
    if settings.redis_url:
        # A Redis stream with a consumer group: any number of `storefront worker`
        # processes on any number of machines share the queue.
        # A read blocks up to 2 s (xread_block) when the queue is empty: the socket timeout
        # must be longer, or an idle worker would see timeouts.
        return StreamBroker(
            settings.redis_url,
            queue_name=QUEUE,
            consumer_group_name="storefront-workers",
            maxlen=settings.job_stream_max_length,  # approximate trimming: cheap, in whole nodes
            socket_timeout=5,
            socket_connect_timeout=max(settings.redis_timeout_seconds, 1.0),
        )
    # Embedded default: jobs run in the API process's own event loop.
    return InMemoryBroker()


class TaskiqDispatcher:
    """Hands a job id to the broker; the message carries nothing else.

    The runner is attached after construction: job handlers may enqueue jobs
    themselves, so the queue (over this dispatcher) exists before the runner.
    """

    def __init__(self, broker: AsyncBroker, *, timeout: float = 1.0, retry_seconds: float = 5.0) -> None:
        self.broker = broker
        self.runner: JobRunner | None = None
        # Only a Redis broker can be down. While it is, a hand-out is skipped at once rather
        # than costing the request that committed the job a timeout: the row is pending,
        # and the next sweep (of a worker) hands it out.
        self.timeout = timeout
        self._breaker = Breaker("job broker", "jobs wait in the table for a sweep", retry_seconds)
        self._stream = broker if isinstance(broker, StreamBroker) else None

        async def run_job(job_id: int) -> None:  # taskiq wants a plain function, not a bound method
            if self.runner is None:
                raise RuntimeError("no job runner attached to the dispatcher")
            await self.runner.run(job_id)

        self._task: Any = broker.register_task(run_job, task_name=TASK_NAME)

    def attach(self, runner: JobRunner) -> None:
        self.runner = runner

    async def dispatch(self, job_ids: Sequence[int]) -> None:
        """Hand jobs out, to Redis in one round trip; raise ``BrokerUnavailable`` when Redis
        cannot take them now (then none or only some were handed out: the rows stay pending
        either way, and a job handed out twice is still claimed once)."""
        stream = self._stream
        if stream is None:
            for job_id in job_ids:
                await self._task.kiq(job_id)
            return
        if self._breaker.open:
            raise BrokerUnavailable("the broker failed moments ago")
        # What ``kiq`` would send one by one (this broker has no middleware), in one go.
        messages = [stream.formatter.dumps(_hand_out(stream.id_generator(), job_id)) for job_id in job_ids]
        try:
            await asyncio.wait_for(stream.kick_many(messages), self.timeout)
        except _SEND_FAILURES as exc:  # TimeoutError included
            self._breaker.trip(exc)
            raise BrokerUnavailable(repr(exc)[:300]) from exc
        self._breaker.succeeded()

    async def waiting(self) -> int | None:
        """Hand-outs in the Redis stream that no worker has read yet (the consumer group's
        lag); None when Redis cannot tell (after trimming past the group, Redis 6) or is
        down. In process there is no queue: a hand-out runs at once."""
        stream = self._stream
        if stream is None:
            return 0
        try:
            return await asyncio.wait_for(stream.waiting_in_group(), self.timeout)
        except _LOOKUP_FAILURES:
            return None


def _hand_out(task_id: str, job_id: int) -> TaskiqMessage:
    """The message taskiq's ``kiq`` would send for ``run_job(job_id)``."""
    return TaskiqMessage(task_id=task_id, task_name=TASK_NAME, labels={}, labels_types={}, args=[job_id], kwargs={})
