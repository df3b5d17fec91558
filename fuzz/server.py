"""The server the fuzzer talks to: a real `storefront serve` on its own database, a small
shop in it (so operations reach their business rules, not only 404), and two logins."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from bench.asgi_servers import free_port, stop_server
from sqlalchemy.engine import make_url

FUZZ_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = FUZZ_DIR.parent
ADMIN = ("fuzz-admin@example.com", "fuzz admin passphrase")
CUSTOMER = ("fuzz-customer@example.com", "fuzz customer passphrase")
Roles = dict[str, str]


@dataclass
class Server:
    url: str
    workdir: Path
    env: dict[str, str]

    def fuzz_env(self) -> dict[str, str]:
        """schemathesis's environment: our hooks importable, and no proxy for a local server."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("STOREFRONT_")}
        env.update(PYTHONPATH=str(PROJECT_ROOT), NO_PROXY="127.0.0.1")
        return env


def _storefront(*args: str, env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "storefront", *args], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"storefront {args[0]} failed:\n{result.stdout}\n{result.stderr}")


async def _admin_statement(server_url: str, statement: str) -> None:
    import asyncpg

    url = make_url(server_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def _database(server_url: str | None, workdir: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file, or one created on ``server_url`` and dropped after."""
    if server_url is None:
        yield f"sqlite:///{workdir / 'fuzz.db'}"
        return
    name = f"storefront_fuzz_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin_statement(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin_statement(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _empty_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server never became ready:\n{log.read_text(errors='replace')[-3000:]}")


@contextmanager
def running_server(database_server: str | None, redis_url: str | None) -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="storefront-fuzz-") as tmp:
        workdir = Path(tmp)
        with _database(database_server, workdir) as database_url:
            env = {key: value for key, value in os.environ.items() if not key.startswith("STOREFRONT_")}
            env["STOREFRONT_DATABASE_URL"] = database_url
            env["STOREFRONT_LOG_LEVEL"] = "WARNING"
            # Cheap password hashing: the fuzzer registers and logs in thousands of times.
            env.update({"STOREFRONT_PASSWORD_HASH_MEMORY_KIB": "8192", "STOREFRONT_PASSWORD_HASH_TIME_COST": "1"})
            if redis_url:
                # Login throttling counts live in Redis: a previous run's thousands of wrong
                # passwords would refuse this run's logins. The database is the run's own.
                _empty_redis(redis_url)
                env["STOREFRONT_REDIS_URL"] = redis_url
            if database_server is not None:
                _storefront("db", "upgrade", env=env, cwd=workdir)
            port = free_port()
            log = workdir / "serve.log"
            with log.open("wb") as output:
                process = subprocess.Popen(  # noqa: S603 - our own command
                    [sys.executable, "-m", "storefront", "serve", "--port", str(port)],
                    cwd=workdir,
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its worker processes stop with it
                )
            try:
                url = f"http://127.0.0.1:{port}"
                _wait_ready(url, process, log)
                _storefront("create-admin", "--email", ADMIN[0], "--password", ADMIN[1], env=env, cwd=workdir)
                yield Server(url=url, workdir=workdir, env=env)
            finally:
                stop_server(process)  # the whole session: Granian's worker too
                errors = [line for line in log.read_text(errors="replace").splitlines() if "Traceback" in line]
                if errors:
                    print(f"fuzz: the server logged {len(errors)} tracebacks:\n{log.read_text()[-5000:]}")


def _call(client: httpx.Client, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.request(method, f"/api/v1{path}", json=body, headers=headers)
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
    return response.json() if response.content else None


def seed_shop(server: Server) -> Roles:
    """A category, a product in stock, a shipping zone and a tax rate for DE, a customer with
    a cart: what the fuzzer needs to get past "not found" into each operation's rules."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        _call(client, "POST", "/auth/register", {"email": CUSTOMER[0], "password": CUSTOMER[1], "name": "Fuzz"})
        tokens = {
            role: _call(client, "POST", "/auth/login", {"email": email, "password": password})["access_token"]
            for role, (email, password) in (("admin", ADMIN), ("customer", CUSTOMER))
        }
        admin = tokens["admin"]
        category = _call(client, "POST", "/categories", {"name": "Fuzz"}, admin)
        product = {"title": "Fuzz kettle", "category": category["slug"], "price": "19.90", "stock": 10_000}
        product_id = _call(client, "POST", "/products", product, admin)["id"]
        rate = {"name": "Standard", "price": "4.90", "min_days": 1, "max_days": 3}
        _call(client, "POST", "/admin/shipping-zones", {"name": "Germany", "countries": ["DE"], "rates": [rate]}, admin)
        _call(client, "PUT", "/admin/tax-rates/DE", {"rate": "0.19"}, admin)
        _call(client, "PUT", f"/cart/items/{product_id}", {"quantity": 1}, tokens["customer"])
    return tokens


def schemathesis_argv(server: Server, token: str, *, examples: int, seed: int, workers: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(FUZZ_DIR / "schemathesis.toml"),
        "run",
        f"{server.url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--max-examples",
        str(examples),
        "--seed",
        str(seed),
        "--workers",
        workers,
        "--no-color",
    ]
