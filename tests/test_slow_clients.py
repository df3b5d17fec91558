"""A real slow-client attack on `storefront serve`: 1,100 POSTs that announce a large body
and send one byte, from one address. The process must keep answering its probes
(measured 2026-12-03 before the limits: about 1,030 such requests and /health/live stopped
answering)."""

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
from tests.helpers import cli_env, free_port

ATTACKERS = 1100
READ_TIMEOUT = 3.0

# A process on the embedded default: the PostgreSQL pass would only repeat it.
pytestmark = pytest.mark.skipif(bool(PG_URL), reason="runs in the SQLite pass")


def _start(port: int, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    env = cli_env(STOREFRONT_BODY_READ_TIMEOUT_SECONDS=str(READ_TIMEOUT), STOREFRONT_SHUTDOWN_DRAIN_SECONDS="0")
    with log.open("wb") as output:
        return subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "storefront", "serve", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so its worker processes go with it
        )


async def _slow_post(port: int) -> int | None:
    """Announce 99,999 bytes, send one, and wait: the status the server answers, if any."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    try:
        writer.write(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 99999\r\n\r\n{"
        )
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), READ_TIMEOUT + 20)
        return int(line.split()[1]) if line.startswith(b"HTTP/1.1") else None
    except (OSError, TimeoutError, ValueError, IndexError):
        return None
    finally:
        writer.close()


async def test_slow_clients_cannot_stall_the_server(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    process = _start(port, tmp_path, log)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if (await client.get("/health/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            attack = [asyncio.create_task(_slow_post(port)) for _ in range(ATTACKERS)]
            await asyncio.sleep(1)  # every slow request is in
            probes = []
            for _ in range(5):
                started = time.monotonic()
                status = (await client.get("/health/live")).status_code
                probes.append((status, round((time.monotonic() - started) * 1000)))
                await asyncio.sleep(0.2)
            answers = await asyncio.gather(*attack)
        counts = {status: answers.count(status) for status in set(answers)}
        print(f"\nslow-client attack: {ATTACKERS} slow POSTs -> {counts}; /health/live during it: {probes}")
        assert all(status == 200 for status, _ in probes), probes
        # All but the per-address allowance were refused at once; the allowance timed out.
        assert counts.get(429, 0) >= ATTACKERS - 64, counts
        assert counts.get(408, 0) + counts.get(429, 0) == ATTACKERS, counts
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
