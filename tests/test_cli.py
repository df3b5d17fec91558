"""The ``storefront`` command, run as a user would: in a fresh folder, as a process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import argon2
import httpx
import pytest

from tests.helpers import cli_env, free_port, storefront


def test_db_upgrade_creates_the_embedded_database(tmp_path: Path) -> None:
    result = storefront(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "storefront-data" / "storefront.db").exists()
    assert storefront(tmp_path, "db", "upgrade").returncode == 0  # idempotent


@pytest.mark.parametrize(
    ("env", "code", "message"),
    [
        ({"STOREFRONT_DATABASE_URL": "mysql://root@localhost/shop"}, 2, "STOREFRONT_DATABASE_URL"),
        ({"STOREFRONT_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/shop"}, 1, "cannot reach the database"),
        ({"STOREFRONT_ENV": "production"}, 2, "STOREFRONT_JWT_SECRET is required"),
        ({"STOREFRONT_JWT_SECRET": "short"}, 2, "at least 32 bytes"),
    ],
)
def test_bad_configuration_is_a_clear_message_not_a_traceback(
    tmp_path: Path, env: dict[str, str], code: int, message: str
) -> None:
    result = storefront(tmp_path, "db", "upgrade", **env)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_create_admin_is_idempotent(tmp_path: Path) -> None:
    first = storefront(tmp_path, "create-admin", "--email", "Boss@Example.com", "--password", "long enough pw")
    assert first.returncode == 0, first.stderr
    assert "created admin boss@example.com" in first.stdout
    again = storefront(tmp_path, "create-admin", "--email", "boss@example.com", "--password", "long enough pw")
    assert again.returncode == 0, again.stderr
    assert "promoted boss@example.com" in again.stdout
    assert "password is unchanged" in again.stdout
    reset = storefront(
        tmp_path, "create-admin", "--email", "boss@example.com", "--password", "a new passphrase", "--reset-password"
    )
    assert reset.returncode == 0, reset.stderr
    assert "set the given password" in reset.stdout
    with sqlite3.connect(tmp_path / "storefront-data" / "storefront.db") as connection:
        (stored,) = connection.execute("SELECT password_hash FROM users WHERE email = 'boss@example.com'").fetchone()
    assert argon2.PasswordHasher().verify(stored, "a new passphrase")
    bad = storefront(tmp_path, "create-admin", "--email", "boss", "--password", "x")
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def test_serve_in_an_empty_folder_is_ready(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "storefront", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2)
                status = response.status_code
                if status == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert status == 200, process.stdout.read() if process.stdout and process.poll() is not None else status
        assert response.json()["checks"] == {"database": "ok", "schema": "ok"}
        assert (tmp_path / "storefront-data" / "jwt-secret").exists()
    finally:
        process.terminate()
        process.wait(timeout=20)
