"""`storefront worker`: receive jobs from the broker, and sweep the outbox for
retries and for jobs whose worker died.

On SIGTERM or SIGINT it takes no new job, gives the jobs it is running
``SHUTDOWN_GRACE_SECONDS`` to finish, then cancels the rest and hands them back
to the broker at once, so another worker runs them now rather than when their
lease expires. Only a worker that dies without warning (SIGKILL, a lost
machine) leaves its jobs to the lease."""

from __future__ import annotations

import asyncio
import signal

import structlog
from taskiq.api import run_receiver_task

from storefront.config import Settings
from storefront.core.logging import configure_logging
from storefront.core.observability import Metrics
from storefront.runtime import build_runtime

log = structlog.get_logger("storefront.worker")


async def run_worker(settings: Settings, metrics: Metrics) -> None:
    configure_logging(settings.log_level, settings.resolved_log_format)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await serve_jobs(settings, metrics, stop)


async def serve_jobs(settings: Settings, metrics: Metrics, stop: asyncio.Event) -> None:
    """The worker until ``stop`` is set (tests run it in their own process this way)."""
    async with build_runtime(settings, metrics) as state:
        jobs = state.jobs
        tasks = [asyncio.create_task(jobs.sweeper.run_forever(), name="sweeper")]
        if not jobs.runs_in_process:
            tasks.append(asyncio.create_task(run_receiver_task(jobs.broker, run_startup=False), name="receiver"))
        log.info("worker_started", broker=type(jobs.broker).__name__, database=state.db.dialect)
        await stop.wait()
        log.info("worker_stopping", grace=settings.shutdown_grace_seconds)
        tasks[0].cancel()  # the sweeper: nothing more to hand out from here
        handed_back = await jobs.runner.drain(settings.shutdown_grace_seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if handed_back:
            try:
                await jobs.queue.dispatcher.dispatch(handed_back)
            except Exception as exc:  # the broker is gone: the sweep of another worker finds the rows
                log.warning("job_handback_failed", job_ids=handed_back, error=repr(exc))
        log.info("worker_stopped", handed_back=handed_back)
