"""PostgreSQL closed to connections (ALLOW_CONNECTIONS false, every session terminated)
in the middle of an order, then opened again: the order answers 503 and leaves nothing
behind, and the same running app answers again by itself (its pools start over), readiness
going 503 then 200. The 503s themselves: tests/core/test_outages.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storefront.catalog.models import Product
from storefront.core.jobs import Job
from storefront.orders.models import Order
from storefront.orders.service import CONFIRMATION_EMAIL, ORDER_NOTIFICATION
from tests.conftest import PG_URL, _admin_query, make_settings
from tests.faults.services import private_database, running, timed, wait_until
from tests.helpers import assert_error

ORDER_JOBS = (CONFIRMATION_EMAIL, ORDER_NOTIFICATION)
pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: runs in the PostgreSQL + Redis pass of .ci/run")


async def test_an_order_cut_by_an_outage_leaves_nothing_and_the_app_recovers_by_itself(tmp_path: Path) -> None:
    assert PG_URL is not None
    async with private_database(tmp_path) as url:
        name = make_url(url).database
        settings = make_settings(tmp_path, database_url=url, redis_url=None, db_pool_size=2)
        engine = create_async_engine(url)
        try:
            async with running(settings) as api:
                category = await api.category()
                first, second = [await api.product(category["slug"], stock=5) for _ in range(2)]
                buyer = await api.customer()
                assert (await api.client.get("/health/ready")).status_code == 200

                # Another session holds the second product: the order takes the first one's stock
                # (products are locked in id order), then waits; the outage cuts it there.
                holder = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
                transaction = holder.transaction()
                await transaction.start()
                await holder.execute("SELECT 1 FROM products WHERE id = $1 FOR UPDATE", second["id"])
                order = asyncio.create_task(api.order(buyer, (first["id"], 1), (second["id"], 1)))
                waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'"

                async def order_waits() -> bool:
                    return bool(await holder.fetchval(waiting, name))

                await wait_until(order_waits, 5, step=0.02)
                await _admin_query(PG_URL, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                await _admin_query(
                    PG_URL,
                    f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",  # noqa: S608
                )
                assert_error(await order, 503, "SERVICE_UNAVAILABLE")
                for _ in range(3):
                    assert_error(await api.client.get("/api/v1/users/me", headers=buyer), 503, "SERVICE_UNAVAILABLE")
                ready, seconds = await timed(api.client.get("/health/ready"))
                error = assert_error(ready, 503, "SERVICE_UNAVAILABLE")
                assert error["details"]["checks"] == {"database": "unavailable"}
                assert seconds < 1  # refused at once (measured: ~5 ms)

                await _admin_query(PG_URL, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

                async def answers() -> bool:
                    return (await api.client.get("/api/v1/users/me", headers=buyer)).status_code == 200

                recovered = await wait_until(answers, 5, step=0.05)
                assert recovered < 0.5  # measured: the first request after reopening answers 200
                assert (await api.client.get("/health/ready")).status_code == 200

                # Nothing of the cut order: no row, no job, and the first product kept its stock.
                async with engine.connect() as connection:
                    assert await connection.scalar(select(func.count()).select_from(Order)) == 0
                    assert await connection.scalar(select(func.count()).where(Job.name.in_(ORDER_JOBS))) == 0
                    stocks = await connection.scalars(select(Product.stock).order_by(Product.id))
                    assert list(stocks) == [5, 5]
                retried = await api.order(buyer, (first["id"], 1), (second["id"], 1))
                assert retried.status_code == 201, retried.text
        finally:
            await engine.dispose()
