"""A worker killed mid-job: the job goes to another worker and the email goes out once.

Real parts only: PostgreSQL, Redis as the broker, two `storefront worker`
processes, and an SMTP server on loopback (aiosmtpd) that holds the first
delivery open so the first worker can be killed in the middle of it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncEngine

from storefront.app import create_app
from storefront.config import Settings
from tests.conftest import PG_URL, REDIS_URL, TEST_SECRET, make_settings
from tests.helpers import Api, clean_committed, contended

pytestmark = pytest.mark.skipif(
    not (PG_URL and REDIS_URL), reason="needs PostgreSQL and Redis: runs in the PostgreSQL + Redis pass of .ci/run"
)


class StallingSmtp:
    """Accepts mail, except that it holds the first message until released, then refuses it."""

    def __init__(self) -> None:
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        self.delivered: list[bytes] = []
        self.calls = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.calls += 1
        if self.calls == 1:
            self.first_arrived.set()
            while not self.release.is_set():  # noqa: ASYNC110 - released from another thread
                await asyncio.sleep(0.05)
            return "451 Aborted"
        self.delivered.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[StallingSmtp, int]]:
    handler = StallingSmtp()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        handler.release.set()
        controller.stop()


def _worker_env(settings: Settings, smtp_port: int, data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("STOREFRONT_")}
    env.update(
        {
            "STOREFRONT_DATABASE_URL": settings.resolved_database_url,
            "STOREFRONT_REDIS_URL": str(REDIS_URL),
            "STOREFRONT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "STOREFRONT_JWT_SECRET": TEST_SECRET,
            "STOREFRONT_DATA_DIR": str(data_dir),
            "STOREFRONT_JOB_LEASE_SECONDS": "3",
            "STOREFRONT_JOB_SWEEP_INTERVAL_SECONDS": "0.5",
            "STOREFRONT_JOB_RETRY_BASE_SECONDS": "0.5",
        }
    )
    return env


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "storefront", "worker"], env=env, stdout=output, stderr=subprocess.STDOUT
        )


@pytest.fixture
async def broker_app(settings: Settings, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Api]:
    """The API with Redis as its broker: it enqueues, workers run."""
    app = create_app(make_settings(tmp_path, database_url=settings.resolved_database_url, jobs_inline=False))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        assert app.state.storefront.redis is not None
        await app.state.storefront.redis.flushdb()
        await app.state.storefront.jobs.broker.startup()  # recreate the consumer group flushdb removed
        try:
            yield Api(client, app)
        finally:
            await clean_committed(engine, 0)


async def _wait_for(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.1)
    return bool(condition())


async def test_a_killed_worker_loses_no_email_and_sends_none_twice(
    broker_app: Api, smtp: tuple[StallingSmtp, int], settings: Settings, tmp_path: Path
) -> None:
    handler, port = smtp
    env = _worker_env(settings, port, tmp_path)
    log = tmp_path / "workers.log"
    first = _start_worker(env, log)
    second = None
    try:
        await asyncio.sleep(2)  # let the worker join the consumer group
        (product,) = await contended(broker_app, 5)
        buyer = await broker_app.customer()
        order = (await broker_app.order(buyer, (product["id"], 1))).json()

        # The first worker has claimed the job and is in the middle of sending.
        arrived = await asyncio.get_running_loop().run_in_executor(None, handler.first_arrived.wait, 20)
        assert arrived, log.read_text()[-3000:]
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        handler.release.set()

        second = _start_worker(env, log)
        assert await _wait_for(lambda: handler.delivered, 30), log.read_text()[-3000:]
        await asyncio.sleep(3)  # a duplicate would arrive within a lease or two
        assert len(handler.delivered) == 1
        assert f"order-{order['id']}-confirmation@storefront".encode() in handler.delivered[0]
        # The notification job went through as well.
        notifications = (await broker_app.client.get("/api/v1/notifications", headers=buyer)).json()["items"]
        assert [item["data"]["order_id"] for item in notifications] == [order["id"]]
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=15)


async def test_a_worker_stopped_mid_job_hands_it_to_another_at_once(
    broker_app: Api, smtp: tuple[StallingSmtp, int], settings: Settings, tmp_path: Path
) -> None:
    handler, port = smtp
    # A lease far longer than the test: only the hand-back can explain a prompt delivery.
    env = _worker_env(settings, port, tmp_path) | {
        "STOREFRONT_JOB_LEASE_SECONDS": "120",
        "STOREFRONT_SHUTDOWN_GRACE_SECONDS": "1",
    }
    log = tmp_path / "workers.log"
    first = _start_worker(env, log)
    second = None
    try:
        await asyncio.sleep(2)  # let the worker join the consumer group
        (product,) = await contended(broker_app, 5)
        buyer = await broker_app.customer()
        order = (await broker_app.order(buyer, (product["id"], 1))).json()
        arrived = await asyncio.get_running_loop().run_in_executor(None, handler.first_arrived.wait, 20)
        assert arrived, log.read_text()[-3000:]
        second = _start_worker(env, log)
        await asyncio.sleep(2)

        # The first worker is stuck sending; asked to stop, it waits out its grace, then hands back.
        stopped_at = time.monotonic()
        first.send_signal(signal.SIGTERM)
        assert await asyncio.get_running_loop().run_in_executor(None, first.wait, 20) == 0
        assert await _wait_for(lambda: handler.delivered, 20), log.read_text()[-3000:]
        assert time.monotonic() - stopped_at < 60  # half the lease: it did not wait for the lease
        await asyncio.sleep(2)
        assert len(handler.delivered) == 1
        assert f"order-{order['id']}-confirmation@storefront".encode() in handler.delivered[0]
        assert "jobs_released" in log.read_text()
    finally:
        handler.release.set()
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=15)


async def test_unpaid_checkouts_expire_exactly_once_with_two_workers(
    broker_app: Api, smtp: tuple[StallingSmtp, int], settings: Settings, tmp_path: Path
) -> None:
    from tests.checkout.helpers import ADDRESS, CHECKOUT, fill_cart, open_shop

    handler, port = smtp
    handler.release.set()  # nothing is mailed here; never hold a worker
    broker_app.state.settings.checkout_ttl_minutes = 0.05  # reservations of 3 s
    log = tmp_path / "workers.log"
    workers = [_start_worker(_worker_env(settings, port, tmp_path), log) for _ in range(2)]
    try:
        names = {"category": "Contention expiry", "mug": "Contended expiry mug", "pot": "Contended expiry pot"}
        shop = await open_shop(broker_app, "NZ", vat=None, zone="Contention expiry", **names)
        mug = shop["mug"]
        orders = []
        for _ in range(3):
            buyer = await broker_app.customer()
            await fill_cart(broker_app, buyer, shop["standard"], (mug["id"], 2), address={**ADDRESS, "country": "NZ"})
            response = await broker_app.client.post(CHECKOUT, headers=buyer)
            assert response.status_code == 201, response.text
            orders.append((buyer, response.json()["order"]["id"]))

        async def stock() -> int:
            value: int = (await broker_app.client.get(f"/api/v1/products/{mug['id']}")).json()["stock"]
            return value

        assert await stock() == 4
        deadline = time.monotonic() + 30
        while await stock() != 10 and time.monotonic() < deadline:  # noqa: ASYNC110 - polling another process
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # both workers sweep every 0.5 s: a second return would show by now
        assert await stock() == 10, log.read_text()[-3000:]
        for buyer, order_id in orders:
            order = (await broker_app.client.get(f"/api/v1/orders/{order_id}", headers=buyer)).json()
            assert (order["status"], order["payment_status"]) == ("cancelled", "expired")
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=15)
