"""Orders placed while Redis (the job broker) is down: they commit, their jobs wait in the
outbox table, and run once each when Redis comes back, empty, with no restart of anything.

Real parts: a private redis-server (killed, then started again without its data), the
worker's loop, an SMTP server on loopback, the suite's kind of database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storefront.core.jobs import Job
from storefront.core.observability import Metrics
from storefront.orders.service import CONFIRMATION_EMAIL, ORDER_NOTIFICATION
from storefront.worker import serve_jobs
from tests.conftest import make_settings
from tests.faults.services import PrivateRedis, private_database, running, smtp_server, wait_until


@asynccontextmanager
async def worker(url: str, redis: str, smtp: str, data_dir: Path) -> AsyncIterator[None]:
    """`storefront worker`'s loop (receiver and sweeper), in this process: a new process
    would spend most of the test importing on a busy machine."""
    settings = make_settings(
        data_dir,
        database_url=url,
        redis_url=redis,
        smtp_url=smtp,
        jobs_inline=False,
        job_sweep_interval_seconds=0.5,
        job_retry_base_seconds=0.5,
        redis_retry_seconds=1,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve_jobs(settings, Metrics(), stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def _jobs(engine: AsyncEngine) -> dict[str, int]:
    """How many jobs in each status."""
    async with engine.connect() as connection:
        of_orders = Job.name.in_([CONFIRMATION_EMAIL, ORDER_NOTIFICATION])  # not the periodic purge
        rows = (await connection.execute(select(Job.status, func.count()).where(of_orders).group_by(Job.status))).all()
    return {str(status): int(count) for status, count in rows}


async def test_orders_placed_while_redis_is_down_get_their_jobs_once_it_returns(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    with smtp_server() as smtp:
        async with private_database(tmp_path) as url, worker(url, private_redis.url, smtp.url, tmp_path):
            engine = create_async_engine(url)
            try:
                settings = make_settings(tmp_path, database_url=url, redis_url=private_redis.url, jobs_inline=False)
                async with running(settings) as api:
                    category = await api.category()
                    product = await api.product(category["slug"], stock=100)
                    buyer = await api.customer()

                    async def order() -> int:
                        response = await api.order(buyer, (product["id"], 1))
                        assert response.status_code == 201, response.text
                        order_id: int = response.json()["id"]
                        return order_id

                    def mailed(*orders: int) -> bool:
                        return all(smtp.mailbox.count(f"order-{order}-confirmation@") for order in orders)

                    # Before the outage, the pipeline works (and the worker is up).
                    before = await order()
                    await wait_until(lambda: mailed(before), 20)

                    private_redis.kill()
                    during = [await order(), await order()]
                    await asyncio.sleep(1.5)  # the worker's sweep (every 0.5 s) has tried 3 times
                    assert await _jobs(engine) == {"done": 2, "pending": 4}  # 2 emails, 2 notifications
                    assert not any(smtp.mailbox.count(f"order-{order}-") for order in during)

                    private_redis.start()  # empty: no stream, no consumer group
                    recovered = await wait_until(lambda: mailed(*during), 20)
                    assert recovered < 10  # measured: 3.2 to 3.6 s (the worker's pause, then a sweep)
                    print(f"the emails of the orders placed during the outage: {recovered:.2f} s after Redis returned")

                    async def all_done() -> bool:
                        return await _jobs(engine) == {"done": 6}

                    await wait_until(all_done, 10)

                    # Exactly as without the outage: one email and one notification per order.
                    for order_id in [before, *during]:
                        assert smtp.mailbox.count(f"order-{order_id}-confirmation@") == 1
                    notifications = (await api.client.get("/api/v1/notifications", headers=buyer)).json()["items"]
                    assert sorted(item["data"]["order_id"] for item in notifications) == [before, *during]
            finally:
                await engine.dispose()
