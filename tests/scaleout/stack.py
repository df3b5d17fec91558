"""A production topology on loopback, from real parts: HAProxy in front of two
`storefront serve` processes, two `storefront worker`s, PgBouncer (transaction mode)
in front of PostgreSQL, Redis, and an SMTP server that counts what it receives."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from tests.helpers import cli_env, free_port

REDIS_DB = 14  # the suite's own: it is flushed at the start
PASSWORD = "correct horse battery"


def find_binary(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(path) for path in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if path.exists()), None
    )


def ensure_binaries(names: tuple[str, ...]) -> list[str]:
    """The binaries' paths, installed from Debian's packages when missing (as root); missing ones named."""
    missing = [name for name in names if find_binary(name) is None]
    if missing and os.geteuid() == 0:
        install = ["apt-get", "install", "-y", "-q", *missing]
        if subprocess.run(install, capture_output=True, check=False).returncode != 0:  # noqa: S603
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)  # noqa: S607
            subprocess.run(install, capture_output=True, check=False)  # noqa: S603
    return [name for name in names if find_binary(name) is None]


class CountingSmtp:
    """Accepts every message and counts confirmation emails per order."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"

    def confirmations(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for message in list(self.messages):
            found = re.search(rb"order-(\d+)-confirmation@storefront", message)
            if found:
                order_id = int(found.group(1))
                counts[order_id] = counts.get(order_id, 0) + 1
        return counts


@dataclass
class Process:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.popen = subprocess.Popen(  # noqa: S603 - our own command
                self.args, env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    def signal(self, signum: int) -> None:
        """To the main process only, as an orchestrator does (Kubernetes signals PID 1)."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signum)

    def crash(self) -> None:
        """SIGKILL to the process and its children: `serve`'s worker processes die with it, as a
        lost container or machine would (killing the main process alone leaves them serving)."""
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def wait(self, timeout: float) -> int | None:
        if self.popen is None:
            return None
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.popen is not None:
            # The group even when the main process is gone: no orphaned worker process.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ---\n" + "\n".join(text.splitlines()[-lines:])


@dataclass
class Stack:
    root: Path
    database: str  # the suite's database, directly on PostgreSQL (migrations, checks)
    pg_host: str
    pg_port: int
    smtp: CountingSmtp
    smtp_port: int
    api_ports: list[int] = field(default_factory=list)
    lb_port: int = 0
    pgbouncer_port: int = 0
    apis: list[Process] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)
    infra: list[Process] = field(default_factory=list)

    @property
    def lb(self) -> str:
        return f"http://127.0.0.1:{self.lb_port}"

    def api_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.api_ports[index]}"

    @property
    def direct_url(self) -> str:
        return f"postgresql://postgres@{self.pg_host}:{self.pg_port}/{self.database}"

    def env(self) -> dict[str, str]:
        return cli_env(
            STOREFRONT_ENV="production",
            STOREFRONT_JWT_SECRET="scale-out-secret-" + "s" * 48,
            STOREFRONT_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{self.pgbouncer_port}/{self.database}",
            STOREFRONT_DATABASE_PGBOUNCER="true",
            STOREFRONT_DB_POOL_SIZE="5",
            STOREFRONT_REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
            STOREFRONT_SMTP_URL=f"smtp://127.0.0.1:{self.smtp_port}",
            STOREFRONT_DATA_DIR=str(self.root / "data"),
            STOREFRONT_SHUTDOWN_DRAIN_SECONDS="2",
            STOREFRONT_SHUTDOWN_GRACE_SECONDS="5",
            STOREFRONT_JOB_SWEEP_INTERVAL_SECONDS="1",
            STOREFRONT_JOB_LEASE_SECONDS="5",
            STOREFRONT_JOB_RETRY_BASE_SECONDS="0.5",
            STOREFRONT_LOGIN_LIMIT_PER_ACCOUNT_ADDRESS="4 per 15 minutes",
            STOREFRONT_LOG_FORMAT="console",
        )

    def start_pgbouncer(self, binary: str) -> None:
        self.pgbouncer_port = free_port()
        folder = self.root / "pgbouncer"
        folder.mkdir()
        ini = folder / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"* = host={self.pg_host} port={self.pg_port} user=postgres\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.pgbouncer_port}\n"
            "unix_socket_dir =\nauth_type = any\npool_mode = transaction\n"
            "default_pool_size = 20\nmax_client_conn = 500\n"
            "ignore_startup_parameters = extra_float_digits\n"
        )
        args = [binary, str(ini)]
        if os.geteuid() == 0:  # PgBouncer refuses to run as root
            user = "postgres" if _user_exists("postgres") else "nobody"
            folder.chmod(0o777)
            ini.chmod(0o644)
            args = [binary, "-u", user, str(ini)]
        process = Process("pgbouncer", args, dict(os.environ), self.root / "pgbouncer.log")
        process.start()
        self.infra.append(process)

    def start_haproxy(self, binary: str) -> None:
        self.lb_port = free_port()
        config = self.root / "haproxy.cfg"
        servers = "\n".join(
            f"    server api{index + 1} 127.0.0.1:{port} check" for index, port in enumerate(self.api_ports)
        )
        # No balancer retries or redispatch: the suite proves the application's own drain.
        config.write_text(
            "global\n    maxconn 4000\n"
            "defaults\n    mode http\n    retries 0\n"
            "    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n"
            f"frontend storefront\n    bind 127.0.0.1:{self.lb_port}\n    default_backend apis\n"
            "backend apis\n    balance roundrobin\n"
            "    option httpchk GET /health/ready\n    http-check expect status 200\n"
            "    default-server inter 500ms fall 1 rise 2\n"
            f"{servers}\n"
        )
        process = Process("haproxy", [binary, "-f", str(config), "-db"], dict(os.environ), self.root / "haproxy.log")
        process.start()
        self.infra.append(process)

    def add_api(self) -> None:
        port = free_port()
        index = len(self.apis)
        self.api_ports.append(port)
        args = [sys.executable, "-m", "storefront", "serve", "--host", "127.0.0.1", "--port", str(port)]
        self.apis.append(Process(f"api{index + 1}", args, self.env(), self.root / f"api{index + 1}.log"))

    def add_worker(self) -> None:
        index = len(self.workers)
        args = [sys.executable, "-m", "storefront", "worker"]
        self.workers.append(Process(f"worker{index + 1}", args, self.env(), self.root / f"worker{index + 1}.log"))

    def logs(self) -> str:
        return "\n".join(process.tail() for process in (*self.infra, *self.apis, *self.workers))

    def stop_all(self) -> None:
        for process in (*self.apis, *self.workers, *self.infra):
            process.kill()


@dataclass
class Shop:
    """The running stack, and what the suite set up through its API."""

    stack: Stack
    admin: dict[str, str]
    products: list[dict[str, Any]]
    customers: list[dict[str, str]]  # bearer headers


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


async def wait_ready(url: str, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{url}/health/ready")).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    return False


def start_smtp() -> tuple[CountingSmtp, int, Controller]:
    handler = CountingSmtp()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return handler, port, controller
