"""Settings: secrets, production requirements, URL normalisation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from storefront.config import Settings, resolve_jwt_secret


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_production_requires_a_jwt_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET is required"):
        _settings(env="production", data_dir=tmp_path)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        _settings(jwt_secret="x" * 31)
    assert _settings(jwt_secret="x" * 32).jwt_secret is not None


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = _settings(data_dir=tmp_path / "data")
    first = resolve_jwt_secret(settings)
    assert len(first) >= 32
    assert resolve_jwt_secret(_settings(data_dir=tmp_path / "data")) == first
    mode = (tmp_path / "data" / "jwt-secret").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_configured_secret_wins(tmp_path: Path) -> None:
    secret = "s" * 40
    assert resolve_jwt_secret(_settings(data_dir=tmp_path, jwt_secret=secret)) == secret.encode()
    assert not (tmp_path / "jwt-secret").exists()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert _settings(database_url=given).database_url == expected


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValidationError, match="unsupported database"):
        _settings(database_url="mysql://root@localhost/shop")


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = _settings(data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'storefront.db'}"
    assert settings.should_auto_migrate


def test_cors_origins_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREFRONT_CORS_ORIGINS", "https://a.example, https://b.example")
    assert _settings().cors_origins == ["https://a.example", "https://b.example"]
