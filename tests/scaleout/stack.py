"""A production topology on loopback, from real parts: HAProxy in front of two
`storefront serve` processes, two `storefront worker`s, PgBouncer (transaction mode)
in front of PostgreSQL, Redis, and an SMTP server that counts what it receives."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiosmtpd.controller import Controller

from tests.helpers import cli_env, free_port

REDIS_DB = 14  # the suite's own Redis database: flushed at the start and at the end
PASSWORD = "correct horse battery"
LOGIN_LIMIT_PER_ACCOUNT = 4  # failed logins per account (scenario c); the default is 100 per hour
INSTALL = "apt-get install -y -q haproxy pgbouncer"


def find_binary(name: str) -> str | None:
    """On PATH, or in /usr/sbin and /usr/bin (Debian puts both there; root's PATH may lack them)."""
    return shutil.which(name) or next(
        (str(path) for path in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if path.exists()), None
    )


def ensure_binaries(names: tuple[str, ...]) -> list[str]:
    """Install the missing ones from Debian's packages when running as root; the names still missing."""
    missing = [name for name in names if find_binary(name) is None]
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "-q", *missing]
        if subprocess.run(install, capture_output=True, env=env, check=False).returncode != 0:  # noqa: S603
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, check=False)  # noqa: S607
            subprocess.run(install, capture_output=True, env=env, check=False)  # noqa: S603
    return [name for name in names if find_binary(name) is None]


class CountingSmtp:
    """Accepts every message; counts the order confirmations it received, per order."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, bytes]] = []  # (time.monotonic() at delivery, message)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((time.monotonic(), envelope.content))
        return "250 OK"

    def confirmations(self) -> dict[int, list[float]]:
        """Order id -> when each of its confirmation emails arrived."""
        found: dict[int, list[float]] = {}
        for at, message in list(self.messages):
            match = re.search(rb"order-(\d+)-confirmation@storefront", message)
            if match:
                found.setdefault(int(match.group(1)), []).append(at)
        return found


@dataclass
class Process:
    """A child process in its own session (so that its own children go with it), output to ``log``."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            output.write(f"----- {time.strftime('%H:%M:%S')} start: {' '.join(self.args)}\n".encode())
            output.flush()
            self.popen = subprocess.Popen(  # noqa: S603 - our own commands
                self.args,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        """To the main process only, as an orchestrator does (Kubernetes signals PID 1)."""
        if self.popen is not None and self.running:
            self.popen.send_signal(signum)

    def crash(self) -> None:
        """SIGKILL to the process and its children: `serve`'s Granian worker dies with it, as
        with a lost container or machine (killing the main process alone leaves it serving)."""
        if self.popen is not None and self.running:
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
        """SIGKILL to the whole group, even when the main process is already gone (no orphans)."""
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(text.splitlines()[-lines:])


@dataclass
class Stack:
    root: Path
    database: str  # the suite's own database on PostgreSQL
    pg_host: str
    pg_port: int
    redis_url: str  # the suite's own Redis database
    smtp: CountingSmtp
    smtp_port: int
    api_ports: list[int] = field(default_factory=list)
    lb_port: int = 0
    stats_port: int = 0
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
        """PostgreSQL itself: migrations, the first admin, and the suite's checks."""
        return f"postgresql://postgres@{self.pg_host}:{self.pg_port}/{self.database}"

    def env(self) -> dict[str, str]:
        return cli_env(
            STOREFRONT_ENV="production",
            STOREFRONT_JWT_SECRET="scale-out-secret-" + "s" * 48,
            STOREFRONT_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{self.pgbouncer_port}/{self.database}",
            STOREFRONT_DATABASE_PGBOUNCER="true",
            STOREFRONT_DB_POOL_SIZE="5",
            STOREFRONT_REDIS_URL=self.redis_url,
            STOREFRONT_SMTP_URL=f"smtp://127.0.0.1:{self.smtp_port}",
            STOREFRONT_DATA_DIR=str(self.root / "data"),
            STOREFRONT_SHUTDOWN_DRAIN_SECONDS="2",
            STOREFRONT_SHUTDOWN_GRACE_SECONDS="5",
            STOREFRONT_JOB_SWEEP_INTERVAL_SECONDS="1",
            STOREFRONT_JOB_LEASE_SECONDS="5",  # a killed worker's jobs go to the other within seconds
            STOREFRONT_JOB_RETRY_BASE_SECONDS="0.5",
            STOREFRONT_LOGIN_LIMIT_PER_ACCOUNT=f"{LOGIN_LIMIT_PER_ACCOUNT} per 1 hour",
            STOREFRONT_LOG_FORMAT="console",
        )

    def start_pgbouncer(self, binary: str) -> None:
        self.pgbouncer_port = free_port()
        folder = self.root / "pgbouncer"
        folder.mkdir()
        ini = folder / "pgbouncer.ini"
        # Trust auth on PostgreSQL here: PgBouncer accepts any client (auth_type any) and
        # logs in to the server as the user named in [databases].
        ini.write_text(
            "[databases]\n"
            f"* = host={self.pg_host} port={self.pg_port} user=postgres\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.pgbouncer_port}\n"
            "unix_socket_dir =\nauth_type = any\npool_mode = transaction\n"
            "default_pool_size = 20\nmax_client_conn = 500\nlog_connections = 0\n"
            "ignore_startup_parameters = extra_float_digits\n"
        )
        args = [binary, str(ini)]
        if os.geteuid() == 0:  # PgBouncer refuses to run as root
            user = "postgres" if _user_exists("postgres") else "nobody"
            for path in (self.root, folder):
                path.chmod(0o755)
            ini.chmod(0o644)
            args = [binary, "-u", user, str(ini)]
        self._start_infra("pgbouncer", args)

    def start_haproxy(self, binary: str) -> None:
        self.lb_port, self.stats_port = free_port(), free_port()
        config = self.root / "haproxy.cfg"
        servers = "\n".join(
            f"    server api{index + 1} 127.0.0.1:{port} check" for index, port in enumerate(self.api_ports)
        )
        # No retry-on, no redispatch, no retries: a request sent to a process that refuses it
        # fails, so the rolling restart proves the application's own drain.
        config.write_text(
            "global\n    maxconn 4000\n"
            "defaults\n    mode http\n    retries 0\n"
            "    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n"
            f"frontend storefront\n    bind 127.0.0.1:{self.lb_port}\n    default_backend apis\n"
            f"frontend stats\n    bind 127.0.0.1:{self.stats_port}\n    stats enable\n    stats uri /stats\n"
            "backend apis\n    balance roundrobin\n"
            "    option httpchk GET /health/ready\n    http-check expect status 200\n"
            "    default-server inter 500ms fall 1 rise 2\n"
            f"{servers}\n"
        )
        self._start_infra("haproxy", [binary, "-f", str(config), "-db"])

    def _start_infra(self, name: str, args: list[str]) -> None:
        process = Process(name, args, dict(os.environ), self.root / f"{name}.log")
        process.start()
        self.infra.append(process)

    def add_api(self) -> None:
        port = free_port()
        index = len(self.apis)
        self.api_ports.append(port)
        args = [
            sys.executable,
            "-m",
            "storefront",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ]
        self.apis.append(Process(f"api{index + 1}", args, self.env(), self.root / f"api{index + 1}.log"))

    def add_worker(self) -> None:
        index = len(self.workers)
        args = [sys.executable, "-m", "storefront", "worker"]
        self.workers.append(Process(f"worker{index + 1}", args, self.env(), self.root / f"worker{index + 1}.log"))

    async def backend_status(self) -> dict[str, str]:
        """HAProxy's view of the API processes: server name (api1, api2) -> UP, DOWN, ..."""
        async with httpx.AsyncClient(timeout=2) as client:
            response = await client.get(f"http://127.0.0.1:{self.stats_port}/stats;csv")
        rows = csv.DictReader(io.StringIO(response.text.lstrip("# ")))
        return {
            row["svname"]: row["status"] for row in rows if row["pxname"] == "apis" and row["svname"].startswith("api")
        }

    async def wait_backend(self, index: int, status: str, seconds: float = 30) -> bool:
        """Until HAProxy sees API process ``index`` as ``status`` (UP: its checks passed twice)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await self.backend_status()).get(f"api{index + 1}", "").startswith(status):
                    return True
            await asyncio.sleep(0.1)
        return False

    def logs(self, lines: int = 40) -> str:
        return "\n".join(process.tail(lines) for process in (*self.infra, *self.apis, *self.workers))

    def stop_all(self) -> None:
        for process in (*self.apis, *self.workers, *self.infra):
            process.kill()


@dataclass
class Shop:
    """The running stack, and what the suite set up through its API."""

    stack: Stack
    admin: dict[str, str]  # bearer header
    products: list[dict[str, Any]]
    customers: list[dict[str, str]]  # bearer headers


def redis_url(base: str) -> str:
    """The suite's own database on the test Redis server."""
    return urlsplit(base)._replace(path=f"/{REDIS_DB}").geturl()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def wait_port(process: Process, port: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.running:
        if port_open(port):
            return True
        await asyncio.sleep(0.1)
    return False


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
