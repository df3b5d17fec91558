"""The taskiq side of the job system: which broker, and the one task it carries."""

from __future__ import annotations

from typing import Any

from taskiq import AsyncBroker, InMemoryBroker
from taskiq_redis import RedisStreamBroker

from storefront.config import Settings
from storefront.core.jobs import JobRunner

TASK_NAME = "storefront.run_job"
QUEUE = "storefront:jobs"


def build_broker(settings: Settings) -> AsyncBroker:
    if settings.jobs_inline:
        return InMemoryBroker(await_inplace=True)
    if settings.redis_url:
        # A Redis stream with a consumer group: any number of `storefront worker`
        # processes on any number of machines share the queue.
        return RedisStreamBroker(settings.redis_url, queue_name=QUEUE, consumer_group_name="storefront-workers")
    # Embedded default: jobs run in the API process's own event loop.
    return InMemoryBroker()


class TaskiqDispatcher:
    """Hands a job id to the broker; the message carries nothing else.

    The runner is attached after construction: job handlers may enqueue jobs
    themselves, so the queue (over this dispatcher) exists before the runner.
    """

    def __init__(self, broker: AsyncBroker) -> None:
        self.broker = broker
        self.runner: JobRunner | None = None

        async def run_job(job_id: int) -> None:  # taskiq wants a plain function, not a bound method
            if self.runner is None:
                raise RuntimeError("no job runner attached to the dispatcher")
            await self.runner.run(job_id)

        self._task: Any = broker.register_task(run_job, task_name=TASK_NAME)

    def attach(self, runner: JobRunner) -> None:
        self.runner = runner

    async def dispatch(self, job_id: int) -> None:
        await self._task.kiq(job_id)
