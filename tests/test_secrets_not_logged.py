"""No secret reaches the logs: a real `storefront serve` with JSON logs at DEBUG (every
library's debug lines included) through a whole session, then the whole log searched
for every password, token and key the session used, and the hashes stored for them
(before the fix, aiosqlite's debug lines carried every statement's parameters: the
argon2 hashes and API token hashes among them). On the backend of the pass: a database
of its own (PostgreSQL or SQLite), and the suite's Redis when there is one."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import REDIS_URL
from tests.faults.services import private_database
from tests.helpers import cli_env, free_port, storefront

JWT_SECRET = "jwt-secret-for-the-log-test-" + "k" * 24
ADMIN_PASSWORD = "admin passphrase 7f3a"
PASSWORD = "first passphrase 91c2"
NEW_PASSWORD = "second passphrase 44e8"
WRONG_PASSWORD = "wrong passphrase 0d6b"


def _start(port: int, cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "storefront", "serve", "--port", str(port)],
            cwd=cwd,
            env=cli_env(**env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so its worker processes go with it
        )


async def test_a_whole_session_leaves_no_secret_in_the_logs(tmp_path: Path) -> None:
    async with private_database(tmp_path) as database_url:
        await _run(tmp_path, database_url)


async def _run(tmp_path: Path, database_url: str) -> None:
    env = {
        "STOREFRONT_DATABASE_URL": database_url,
        "STOREFRONT_JWT_SECRET": JWT_SECRET,
        "STOREFRONT_LOG_FORMAT": "json",
        "STOREFRONT_LOG_LEVEL": "DEBUG",
        "STOREFRONT_SHUTDOWN_DRAIN_SECONDS": "0",
    }
    if REDIS_URL:
        env["STOREFRONT_REDIS_URL"] = REDIS_URL
    made = storefront(tmp_path, "create-admin", "--email", "boss@example.com", "--password", ADMIN_PASSWORD, **env)
    assert made.returncode == 0, made.stderr
    port = free_port()
    log = tmp_path / "serve.log"
    process = _start(port, tmp_path, env, log)
    secrets: dict[str, str] = {
        "JWT secret": JWT_SECRET,
        "admin password": ADMIN_PASSWORD,
        "password": PASSWORD,
        "new password": NEW_PASSWORD,
        "wrong password": WRONG_PASSWORD,
    }
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await http.get("/health/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.2)
            await _session(http, secrets)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    # What the database keeps in their place is not for the logs either: the password
    # hashes (offline guessing material) and the API tokens' hashes.
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as db:
            for email, password_hash in await db.execute(text("SELECT email, password_hash FROM users")):
                secrets[f"password hash of {email}"] = password_hash
            for (token_hash,) in await db.execute(text("SELECT token_hash FROM api_tokens")):
                secrets["API token hash"] = token_hash
    finally:
        await engine.dispose()
    assert len([name for name in secrets if name.startswith("password hash")]) == 2

    text_ = log.read_text() + made.stdout + made.stderr
    lines = text_.splitlines()
    assert sum('"level":"debug"' in line for line in lines) > 5, text_  # DEBUG really was on
    assert any('"event":"request"' in line for line in lines), lines[:5]
    for line in lines:
        if line.startswith("{"):
            json.loads(line)  # JSON lines, as configured
    for name, value in secrets.items():
        found = [line for line in lines if value in line]
        assert not found, f"the {name} is in the log: {found[0][:300]}"


async def _session(http: httpx.AsyncClient, secrets: dict[str, str]) -> None:
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def keep(name: str, token: str) -> str:
        secrets[name] = token
        if token.count(".") == 2:  # a JWT: its signature alone is a secret too
            secrets[f"{name} (signature)"] = token.rsplit(".", 1)[1]
        return token

    admin = await http.post("/api/v1/auth/login", json={"email": "boss@example.com", "password": ADMIN_PASSWORD})
    assert admin.status_code == 200, admin.text
    admin_token = keep("admin access token", admin.json()["access_token"])
    keep("admin refresh token", admin.json()["refresh_token"])
    category = await http.post("/api/v1/categories", json={"name": "Mugs"}, headers=bearer(admin_token))
    assert category.status_code == 201, category.text
    product = await http.post(
        "/api/v1/products",
        json={"title": "Blue Mug", "category": "mugs", "price": "9.50", "stock": 10},
        headers=bearer(admin_token),
    )
    assert product.status_code == 201, product.text

    ada = {"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}
    registered = await http.post("/api/v1/auth/register", json=ada)
    assert registered.status_code == 201, registered.text
    login = await http.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert login.status_code == 200, login.text
    keep("access token", login.json()["access_token"])
    first_refresh = keep("refresh token", login.json()["refresh_token"])
    form = await http.post("/api/v1/auth/token", data={"username": "ada@example.com", "password": PASSWORD})
    assert form.status_code == 200, form.text
    keep("form access token", form.json()["access_token"])
    keep("form refresh token", form.json()["refresh_token"])

    refreshed = await http.post("/api/v1/auth/refresh", json={"refresh_token": first_refresh})
    assert refreshed.status_code == 200, refreshed.text
    access = keep("refreshed access token", refreshed.json()["access_token"])
    refresh = keep("refreshed refresh token", refreshed.json()["refresh_token"])

    created = await http.post("/api/v1/auth/api-tokens", json={"name": "script"}, headers=bearer(access))
    assert created.status_code == 201, created.text
    api_token = keep("API token", created.json()["token"])
    assert (await http.get("/api/v1/users/me", headers=bearer(api_token))).status_code == 200

    order = await http.post(
        "/api/v1/orders",
        json={"items": [{"product_id": product.json()["id"], "quantity": 2}]},
        headers={**bearer(api_token), "Idempotency-Key": "log-test-order-1"},
    )
    assert order.status_code == 201, order.text

    changed = await http.patch(
        "/api/v1/users/me",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(access),
    )
    assert changed.status_code == 200, changed.text
    wrong = await http.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": WRONG_PASSWORD})
    assert wrong.status_code == 401, wrong.text
    again = await http.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": NEW_PASSWORD})
    assert again.status_code == 200, again.text
    access = keep("new access token", again.json()["access_token"])
    refresh = keep("new refresh token", again.json()["refresh_token"])

    # Refused tokens are not logged either: a spent refresh token (which revokes its
    # login), a garbled bearer token, a revoked one.
    assert (await http.post("/api/v1/auth/refresh", json={"refresh_token": first_refresh})).status_code == 401
    garbled = keep("garbled token", access[:-6] + "AAAAAA")
    assert (await http.get("/api/v1/users/me", headers=bearer(garbled))).status_code == 401
    out = await http.post("/api/v1/auth/logout", json={"refresh_token": refresh}, headers=bearer(access))
    assert out.status_code == 204, out.text
    assert (await http.get("/api/v1/users/me", headers=bearer(access))).status_code == 401
