"""Settings, read from the environment (prefix ``STOREFRONT_``) and a ``.env`` file."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storefront.fields import currency_code

MIN_SECRET_BYTES = 32
# An origin as browsers send it in the Origin header (RFC 6454): scheme, host, optional port.
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:[0-9]{1,5})?")
# What AI_MODELS may name (docs/ai.md); `local` is the offline generator.
AI_PROVIDERS = ("google-gla", "openai", "anthropic", "bedrock", "local")


class ConfigError(Exception):
    """The configuration cannot work; the message says what to change."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STOREFRONT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("./storefront-data")
    database_url: str | None = None
    redis_url: str | None = None
    # Redis answers in about a millisecond; one that has not within this is treated as down
    # (cache, login throttle, job hand-out), so a hung Redis costs a request this at most.
    redis_timeout_seconds: float = Field(0.5, gt=0, le=30)
    # After a Redis failure a process uses its fallback (no cache, local login counts, jobs
    # left to the sweep) for this long before it tries Redis again (core/fallback.py).
    redis_retry_seconds: float = Field(5.0, gt=0, le=300)

    # Identity
    jwt_secret: SecretStr | None = None
    jwt_issuer: str = "storefront"
    jwt_audience: str = "storefront-api"
    access_token_ttl_seconds: int = Field(900, ge=60, le=24 * 3600)
    refresh_token_ttl_days: int = Field(14, ge=1, le=365)
    # Failed logins (identity.service.LoginThrottle): per account from one address; per
    # address; per account from addresses it never logged in from (the owner's are exempt).
    login_limit_per_account_address: str = "10 per 15 minutes"
    login_limit_per_address: str = "100 per 15 minutes"
    login_limit_per_account: str = "100 per 1 hour"
    # argon2id cost; the defaults are RFC 9106's second recommended option.
    password_hash_time_cost: int = Field(3, ge=1)
    password_hash_memory_kib: int = Field(65536, ge=8192)
    password_hash_parallelism: int = Field(4, ge=1)
    # Argon2 with the defaults above takes 64 MiB per hash: cap how many run at once.
    password_hash_concurrency: int = Field(4, ge=1)
    # `storefront mcp` (stdio) acts as the owner of this access or personal API token (docs/mcp.md).
    mcp_token: SecretStr | None = None

    # HTTP
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed ("*": any).
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1"])
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    # Below Granian's own refusals (URI 65,534 bytes, 100 header fields, a ~408 KiB head),
    # which come with an empty body: these are answered in the envelope (core.middleware).
    max_header_bytes: int = Field(16 * 1024, ge=4096, le=256 * 1024)
    max_url_bytes: int = Field(8192, ge=1024, le=60_000)
    max_json_depth: int = Field(32, ge=8, le=512)
    # One client must not take a whole process (storefront.core.limits): per process.
    body_read_timeout_seconds: float = Field(30.0, gt=0, le=600)
    max_requests_per_client: int = Field(64, ge=1)
    max_streams_per_user: int = Field(5, ge=1)

    # Database pool (PostgreSQL)
    # Connections beyond pool_size are closed on return, so under sustained load
    # overflow means reconnecting all the time (measured: a visible cost, TLS
    # negotiation included). By default requests wait for a pooled connection.
    db_pool_size: int = Field(20, ge=1)
    db_max_overflow: int = Field(0, ge=0)
    db_pool_timeout_seconds: float = Field(10.0, gt=0)
    db_pool_recycle_seconds: int = Field(1800, ge=-1)
    # Off by default: with asyncpg a ping is BEGIN, ";" and ROLLBACK (three round trips
    # per checkout). A dropped connection is detected on use instead and the pool is
    # refreshed; DB_POOL_RECYCLE_SECONDS retires old connections.
    db_pool_pre_ping: bool = False
    db_connect_timeout_seconds: float = Field(5.0, gt=0)
    # PostgreSQL cancels a statement running longer (503 with Retry-After): one slow query
    # cannot hold a request, its connection and its locks for ever. 0: no limit.
    db_statement_timeout_seconds: float = Field(15.0, ge=0)
    sqlite_busy_timeout_ms: int = Field(5000, ge=0)
    # Behind PgBouncer in transaction mode (docs/deployment.md#pgbouncer): no prepared
    # statement may outlive its transaction, and every read runs inside one.
    database_pgbouncer: bool = False
    # Apply pending migrations when the app starts. Default: on for SQLite, off otherwise.
    auto_migrate: bool | None = None

    # Cache of catalog reads: memory per process, or Redis when REDIS_URL is set.
    cache_enabled: bool = True
    cache_ttl_seconds: int = Field(300, ge=1)
    cache_max_entries: int = Field(100_000, ge=100)

    # Search: how many matches are ranked at most (keeps common terms fast).
    search_candidate_limit: int = Field(500, ge=50, le=100_000)

    # Jobs and notifications
    smtp_url: str | None = None
    mail_from: str = "Storefront <shop@example.com>"
    job_lease_seconds: float = Field(60.0, gt=0)
    job_retry_base_seconds: float = Field(2.0, gt=0)
    job_sweep_interval_seconds: float = Field(5.0, gt=0)
    # At most this many jobs claimed and running at once per process; the rest of a hand-out
    # waits unclaimed. Default: no bound (a hand-out is up to 100 from Redis, 200 from a sweep).
    # A bound at the pool's size cost a third of a worker's throughput (a running job holds a
    # connection only part of the time), so set it only where jobs time out on the pool.
    job_concurrency: int | None = Field(None, ge=1)
    # The Redis stream of job hand-outs keeps about this many messages: acknowledged ones
    # stay in a stream until trimmed, and untrimmed it grew by one message per job forever.
    # A backlog longer than this loses its oldest hand-outs, not its jobs (the rows stay
    # pending and the sweep hands them out again).
    job_stream_max_length: int = Field(100_000, ge=1_000)
    # Run each job inside the request that enqueued it (tests, debugging); never in production.
    jobs_inline: bool = False

    # Orders: unrestricted quantities are an abuse vector (hoarding stock).
    order_max_lines: int = Field(50, ge=1)
    order_max_quantity_per_line: int = Field(100, ge=1)
    order_max_units: int = Field(500, ge=1)
    idempotency_ttl_hours: int = Field(24, ge=24)

    # Commerce: the shop's one currency (ISO 4217), shown on carts; prices are tax-exclusive.
    currency: str = "USD"
    # How long a checkout's order holds its stock unpaid before it is cancelled and the stock returns.
    checkout_ttl_minutes: float = Field(30, gt=0, le=7 * 24 * 60)
    # Payments (docs/commerce.md): "manual" (an admin captures: bank transfer, cash on
    # delivery) or "stripe" (PaymentIntents through the official SDK, confirmed by webhook).
    payment_provider: Literal["manual", "stripe"] = "manual"
    stripe_api_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    # Points the SDK at another server speaking the Stripe API (tests, a proxy); unset: Stripe.
    stripe_api_base: str | None = None
    stripe_timeout_seconds: float = Field(10.0, gt=0, le=60)

    # Dashboard: each section answers within this or comes back null.
    dashboard_section_timeout_seconds: float = Field(2.0, gt=0)

    # Reports: rows fetched per query while streaming a CSV.
    report_batch_size: int = Field(2000, ge=10, le=50_000)

    # AI content (docs/ai.md): an ordered chain of "provider:model"; the offline
    # generator `local` ends it unless AI_LOCAL_ENABLED is false.
    ai_models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    ai_openai_base_url: str | None = None
    ai_local_enabled: bool = True
    # One attempt at one provider; then the time one provider may take, retries included.
    ai_timeout_seconds: float = Field(15.0, gt=0)
    ai_request_budget_seconds: float = Field(20.0, gt=0)
    ai_job_budget_seconds: float = Field(120.0, gt=0)
    ai_max_attempts: int = Field(3, ge=1, le=10)
    ai_backoff_base_seconds: float = Field(0.5, gt=0)
    # Circuit breaker per provider: open after this many failures in a row, probe after the cool-down.
    ai_breaker_threshold: int = Field(5, ge=1)
    ai_breaker_cooldown_seconds: float = Field(30.0, gt=0)
    ai_concurrency: int = Field(4, ge=1)
    # Tokens (in + out) all remote providers may spend per UTC day; 0: no limit.
    ai_daily_token_budget: int = Field(0, ge=0)
    # Search query expansion with synonyms from the chain (docs/ai.md): off by default;
    # the whole expansion of a query gets this many milliseconds, else the search goes on without.
    ai_search_expansion: bool = False
    ai_search_expansion_budget_ms: int = Field(300, ge=50, le=5000)
    ai_search_expansion_ttl_seconds: int = Field(86_400, ge=60)

    # Shutdown (docs/deployment.md#graceful-shutdown). On SIGTERM an API process answers
    # /health/ready with 503 and keeps serving for the drain, so balancers take it out of
    # rotation first; then in-flight requests (and a worker's in-flight jobs) get the grace.
    shutdown_drain_seconds: float = Field(5.0, ge=0, le=300)
    shutdown_grace_seconds: float = Field(10.0, ge=0, le=600)
    # Set by `storefront serve` for its worker processes: the file whose existence means "drain".
    drain_marker: Path | None = None

    # Observability
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] | None = None
    health_check_timeout_seconds: float = Field(2.0, gt=0)

    @field_validator("cors_origins", "forwarded_allow_ips", "ai_models", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, value: list[str]) -> list[str]:
        # A browser's Origin is compared as a string: anything but scheme://host[:port]
        # in lower case would silently never match. `*` allows every origin (never with
        # credentials: storefront.core.cors), so it stands alone.
        if "*" in value and len(value) > 1:
            raise ValueError("'*' allows every origin: give it alone, or list the origins without it")
        for origin in value:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: write scheme://host[:port] in lower case, "
                    "with no path and no trailing slash (e.g. https://shop.example.com)"
                )
        return value

    @field_validator("ai_models")
    @classmethod
    def _known_ai_providers(cls, value: list[str]) -> list[str]:
        for entry in value:
            provider, _, model = entry.partition(":")
            if provider not in AI_PROVIDERS:
                raise ValueError(f"unknown provider {provider!r} in {entry!r}; known: {', '.join(AI_PROVIDERS)}")
            if provider != "local" and not model:
                raise ValueError(f"{entry!r} needs a model: {provider}:<model name>")
        return value

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        return currency_code(value)

    @field_validator(
        "database_url",
        "redis_url",
        "jwt_secret",
        "smtp_url",
        "ai_openai_base_url",
        "stripe_api_key",
        "stripe_webhook_secret",
        "stripe_api_base",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return normalise_database_url(value)

    @field_validator("jwt_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes long")
        return value

    @model_validator(mode="after")
    def _production_requirements(self) -> Settings:
        if self.env == "production" and self.jwt_secret is None:
            raise ValueError("STOREFRONT_JWT_SECRET is required when STOREFRONT_ENV=production")
        if self.payment_provider == "stripe" and (self.stripe_api_key is None or self.stripe_webhook_secret is None):
            raise ValueError(
                "STOREFRONT_PAYMENT_PROVIDER=stripe needs STOREFRONT_STRIPE_API_KEY "
                "and STOREFRONT_STRIPE_WEBHOOK_SECRET"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'storefront.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def should_auto_migrate(self) -> bool:
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate

    @property
    def resolved_log_format(self) -> Literal["json", "console"]:
        if self.log_format:
            return self.log_format
        return "json" if self.env == "production" else "console"


def normalise_database_url(url: str) -> str:
    """Accept the usual spellings and pick the async driver we support for each."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("must be a URL such as postgresql://user@host/db or sqlite:///path.db")
    scheme = scheme.lower()
    if scheme in {"postgres", "postgresql", "postgresql+asyncpg"}:
        return f"postgresql+asyncpg://{rest}"
    if scheme in {"sqlite", "sqlite+aiosqlite"}:
        return f"sqlite+aiosqlite://{rest}"
    raise ValueError(f"unsupported database '{scheme}': use postgresql:// or sqlite://")


def resolve_jwt_secret(settings: Settings) -> bytes:
    """The signing key: configured, or (development only) generated once and kept on disk.

    Keeping the generated key in the data directory means tokens survive a restart,
    which a per-process random key would not.
    """
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value().encode()
    path = settings.data_dir / "jwt-secret"
    try:
        if path.exists():
            secret = path.read_text().strip().encode()
            if len(secret) >= MIN_SECRET_BYTES:
                return secret
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48).encode()
        path.write_bytes(secret)
        path.chmod(0o600)
    except OSError as exc:
        raise ConfigError(f"cannot keep the development JWT secret in {path}: {exc.strerror}") from exc
    import structlog

    structlog.get_logger("storefront.config").warning(
        "jwt_secret_generated",
        path=str(path),
        hint="set STOREFRONT_JWT_SECRET in production",
    )
    return secret
