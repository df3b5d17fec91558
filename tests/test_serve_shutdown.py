"""`storefront serve` on SIGTERM, as a real process: it drains (readiness 503 while it
still serves), ends streams with a reconnect hint, then exits cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG_URL
from tests.helpers import PASSWORD, cli_env, free_port, unique_email

DRAIN_SECONDS = 2.0

# A process on the embedded default: the PostgreSQL pass would only repeat it.
pytestmark = pytest.mark.skipif(bool(PG_URL), reason="runs in the SQLite pass")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def _start(port: int, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    env = cli_env(STOREFRONT_SHUTDOWN_DRAIN_SECONDS=str(DRAIN_SECONDS), STOREFRONT_SHUTDOWN_GRACE_SECONDS="3")
    with log.open("wb") as output:
        return subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "storefront", "serve", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so its worker processes go with it
        )


async def _wait_ready(client: httpx.AsyncClient, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if (await client.get("/health/ready")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"never ready:\n{_tail(log)}")


async def _stream(client: httpx.AsyncClient, token: str, lines: list[str], connected: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with client.stream("GET", "/api/v1/notifications/stream", headers=headers, timeout=30) as response:
        async for line in response.aiter_lines():
            lines.append(line)
            connected.set()


async def test_sigterm_drains_then_stops(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    process = _start(port, tmp_path, log)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            await _wait_ready(client, process, log)
            email = unique_email("drain")
            register = {"email": email, "password": PASSWORD, "name": "Drain"}
            assert (await client.post("/api/v1/auth/register", json=register)).status_code == 201
            login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            lines: list[str] = []
            connected = asyncio.Event()
            stream = asyncio.create_task(_stream(client, login.json()["access_token"], lines, connected))
            await asyncio.wait_for(connected.wait(), 10)

            process.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            seen: list[tuple[float, int | None, int | None]] = []  # (seconds after SIGTERM, ready, products)
            while process.poll() is None and time.monotonic() - sent < 20:
                ready = products = None
                try:
                    ready = (await client.get("/health/ready")).status_code
                    products = (await client.get("/api/v1/products")).status_code
                except httpx.TransportError:
                    pass
                seen.append((time.monotonic() - sent, ready, products))
                await asyncio.sleep(0.1)
            await asyncio.wait_for(stream, 10)

        assert process.wait(timeout=10) == 0, _tail(log)
        # Draining: not ready, yet still serving every request.
        draining = [entry for entry in seen if entry[1] == 503]
        assert draining, seen
        # (At the drain's very end the process may stop between the readiness probe and the
        # products request: a refusal there is the stop, not the drain.)
        unserved = [
            (after, products)
            for after, _, products in draining
            if products != 200 and not (products is None and after >= DRAIN_SECONDS * 0.8)
        ]
        assert not unserved, (unserved, seen)
        # Nothing was refused before the drain period was over.
        refused = [after for after, ready, _ in seen if ready is None]
        assert not refused or min(refused) >= DRAIN_SECONDS * 0.9, seen
        assert all(ready in (200, 503) for _, ready, _ in seen if ready is not None), seen
        # The stream ended by itself, telling the client to reconnect in a second.
        assert "retry: 1000" in lines, lines
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
