"""Real services a fault test can stop and start again: a private redis-server, an SMTP
server on loopback (aiosmtpd), a private database; and a clock for what they answered."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy.engine import make_url

from storefront.app import create_app
from storefront.config import Settings
from storefront.core import migrate
from storefront.core.db import create_engine
from tests.conftest import PG_URL, _admin_query, make_settings
from tests.helpers import Api, free_port


class PrivateRedis:
    """A redis-server of the test's own, without persistence: restarted, it comes back empty,
    as a Redis without AOF or RDB does in production."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - a fixed command
        deadline = time.monotonic() + 5
        while not self._answers():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """Down: connections are refused."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def pause(self) -> None:
        """Hung: connections are accepted by the kernel, nothing is answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait()


class Mailbox:
    """Accepts every message; ``received`` holds them."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.content)
        return "250 OK"

    def count(self, needle: str) -> int:
        return sum(needle.encode() in message for message in self.received)


class SlowGoodbyeMailbox(Mailbox):
    """Accepts every message, then takes ``goodbye_seconds`` to answer QUIT."""

    def __init__(self, goodbye_seconds: float) -> None:
        super().__init__()
        self.goodbye_seconds = goodbye_seconds
        self.goodbyes_started = 0
        self.goodbyes_answered = 0

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.goodbyes_started += 1
        await asyncio.sleep(self.goodbye_seconds)
        self.goodbyes_answered += 1
        return "221 Bye"


class SmtpServer:
    """An SMTP server on a fixed loopback port that the test stops (connections refused)
    and starts again."""

    def __init__(self, mailbox: Mailbox | None = None) -> None:
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.mailbox = mailbox or Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def private_database(tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database of the test's own: PostgreSQL in the PostgreSQL pass (so it can
    be closed to connections), else a SQLite file."""
    if PG_URL is None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'fault.db'}"
    else:
        name = f"storefront_fault_{uuid.uuid4().hex[:10]}"
        await _admin_query(PG_URL, f'CREATE DATABASE "{name}"')
        url = make_url(PG_URL).set(drivername="postgresql+asyncpg", database=name).render_as_string(False)
    engine = create_engine(make_settings(tmp_path, database_url=url))
    try:
        await migrate.upgrade(engine)
        await engine.dispose()
        yield url
    finally:
        await engine.dispose()
        if PG_URL is not None:
            database = make_url(url).database
            await _admin_query(PG_URL, f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            await _admin_query(PG_URL, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def timed(call: Awaitable[Any]) -> tuple[Any, float]:
    """(what ``call`` returned, its duration in seconds)."""
    started = time.monotonic()
    result = await call
    return result, time.monotonic() - started


async def wait_until(condition: Callable[[], bool | Awaitable[bool]], seconds: float, step: float = 0.1) -> float:
    """Poll ``condition`` until it holds; the seconds it took (fails past ``seconds``)."""
    started = time.monotonic()
    while True:
        result = condition()
        if result if isinstance(result, bool) else await result:
            return time.monotonic() - started
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        await asyncio.sleep(step)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Api]:
    """The app, started, behind an in-process client."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=30) as client,
    ):
        yield Api(client, app)
