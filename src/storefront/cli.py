"""The ``storefront`` command: serve, db upgrade, seed, import, worker, mcp, create-admin, ai fill."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from storefront.config import ConfigError, Settings

if TYPE_CHECKING:
    from storefront.core.db import Database

app = typer.Typer(help="Storefront: an async storefront API.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
app.add_typer(db_app, name="db")
ai_app = typer.Typer(help="AI product content (docs/ai.md).", no_args_is_help=True)
app.add_typer(ai_app, name="ai")

T = TypeVar("T")


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def load_settings() -> Settings:
    """Settings, or a readable list of what is wrong with them (never a traceback)."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "\n".join(
            f"  STOREFRONT_{'_'.join(str(part) for part in error['loc']).upper() or 'SETTINGS'}: {error['msg']}"
            for error in exc.errors()
        )
        _fail(f"invalid configuration:\n{problems}")


def run_db_task(settings: Settings, task: Callable[[Settings], Coroutine[Any, Any, T]]) -> T:
    """Run an async database task, turning connection failures into a clear message."""
    from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

    try:
        return asyncio.run(task(settings))
    except ConfigError as exc:
        _fail(str(exc))
    except (OperationalError, DBAPIError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "orig", None) or exc
        _fail(f"cannot reach the database ({settings.resolved_database_url.split('@')[-1]}): {reason}", 1)
    except ArgumentError as exc:
        _fail(f"bad STOREFRONT_DATABASE_URL: {exc}")


async def _upgrade(settings: Settings) -> None:
    from storefront.core.db import create_engine
    from storefront.core.migrate import upgrade

    engine = create_engine(settings)
    try:
        await asyncio.wait_for(upgrade(engine), timeout=300)
    finally:
        await engine.dispose()


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Database]:
    """The database of a one-off command, brought up to date first when it is the embedded one."""
    from storefront.core.db import Database, create_engine

    if settings.should_auto_migrate:
        await _upgrade(settings)
    db = Database(create_engine(settings))
    try:
        yield db
    finally:
        await db.dispose()


async def _ping(settings: Settings) -> None:
    from storefront.core.db import Database, create_engine

    db = Database(create_engine(settings))
    try:
        await db.ping(settings.db_connect_timeout_seconds + 1)
    finally:
        await db.dispose()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
) -> None:
    """Start the API server (granian, with uvloop). SIGTERM drains first (docs/deployment.md)."""
    from storefront.config import resolve_jwt_secret
    from storefront.core.logging import configure_logging
    from storefront.serve import run_server

    settings = load_settings()
    configure_logging(settings.log_level, settings.resolved_log_format)
    try:
        resolve_jwt_secret(settings)  # generate the dev secret once, before workers race for it
    except ConfigError as exc:
        _fail(str(exc))
    # Migrate here, once, rather than in each worker's start-up.
    run_db_task(settings, _upgrade if settings.should_auto_migrate else _ping)
    if workers > 1 and not settings.redis_url and settings.cache_enabled:
        # Per-process memory caches cannot see each other's invalidations.
        typer.secho("note: several workers without STOREFRONT_REDIS_URL: the read cache is off", err=True)
        os.environ["STOREFRONT_CACHE_ENABLED"] = "false"
    # Granian over uvicorn: measured faster with a much shorter tail (docs/decisions.md).
    run_server(settings, host, port, workers)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply pending migrations."""
    settings = load_settings()

    async def task(s: Settings) -> None:
        from storefront.core.db import create_engine
        from storefront.core.migrate import upgrade

        engine = create_engine(s)
        try:
            await upgrade(engine, revision)
        finally:
            await engine.dispose()

    run_db_task(settings, task)
    typer.echo(f"database upgraded to {revision}")


def _progress(description: str) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=False)


@app.command()
def seed(
    products: Annotated[int, typer.Option(help="Products to add.", min=0)] = 0,
    users: Annotated[int, typer.Option(help="Customer accounts to add.", min=0)] = 0,
    orders: Annotated[int, typer.Option(help="Orders (past, from existing customers and products) to add.", min=0)] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same data.")] = 42,
) -> None:
    """Add deterministic demo data (products after those already there)."""
    settings = load_settings()

    async def task(s: Settings) -> None:
        from storefront.catalog.seed import seed_products
        from storefront.identity.seed import seed_users
        from storefront.orders.seed import seed_orders

        async with _database(s) as db:
            if products:
                with _progress("products") as bar:
                    job = bar.add_task("products", total=products)
                    async with db.session_scope() as session:
                        await seed_products(session, products, seed, lambda n: bar.advance(job, n))
            if users:
                async with db.session_scope() as session:
                    password = await seed_users(session, users, seed, s)
                typer.echo(f"added {users} customers (customer-<seed>-<n>@example.com), password: {password}")
            if orders:
                with _progress("orders") as bar:
                    job = bar.add_task("orders", total=orders)
                    async with db.session_scope() as session:
                        await seed_orders(session, orders, seed, lambda n: bar.advance(job, n))

    from storefront.core.errors import AppError

    try:
        run_db_task(settings, task)
    except AppError as exc:
        _fail(exc.message)
    typer.echo("done")


@app.command("import")
def import_csv(
    path: Annotated[typer.FileText, typer.Argument(help="CSV with a header: title, category, price, stock, ...")],
    create_categories: Annotated[
        bool, typer.Option(help="Create the categories the file names that do not exist yet (named after the slug).")
    ] = False,
) -> None:
    """Import products from CSV in batches: good rows land, bad rows are summarised (exit 1 if any)."""
    settings = load_settings()

    async def task(s: Settings) -> Any:
        from storefront.catalog.cache import CatalogCache
        from storefront.catalog.importer import count_rows, import_products
        from storefront.core.cache import Cache

        async with _database(s) as db:
            cache = Cache(s)
            try:
                with _progress("rows") as bar:
                    job = bar.add_task("rows", total=count_rows(path))
                    return await import_products(
                        db,
                        CatalogCache(cache),
                        path,
                        lambda n: bar.advance(job, n),
                        create_categories=create_categories,
                    )
            finally:
                await cache.close()

    from storefront.catalog.importer import BadHeader

    try:
        report = run_db_task(settings, task)
    except BadHeader as exc:
        _fail(f"{path.name}: {exc}")
    _report_rejected(report.errors)
    if report.categories_created:
        typer.echo(f"created {len(report.categories_created)} categories: {', '.join(report.categories_created)}")
    typer.echo(f"imported {report.imported} products, {len(report.errors)} rows rejected")
    if report.errors:
        raise typer.Exit(1)


def _report_rejected(errors: list[tuple[int, str]], shown: int = 20) -> None:
    """The first rejected rows one per line, then the rest summarised by reason."""
    from collections import Counter

    for line, message in errors[:shown]:
        typer.secho(f"line {line}: {message}", fg=typer.colors.YELLOW, err=True)
    rest = errors[shown:]
    if rest:
        reasons = Counter(message for _, message in rest).most_common(3)
        common = "; ".join(f"{count} x {message}" for message, count in reasons)
        typer.secho(f"... and {len(rest)} more rows rejected, most often: {common}", fg=typer.colors.YELLOW, err=True)


@app.command()
def worker() -> None:
    """Run background jobs (with STOREFRONT_REDIS_URL: as many workers as you like, anywhere)."""
    settings = load_settings()

    async def task(s: Settings) -> None:
        from storefront.core.observability import Metrics
        from storefront.worker import run_worker

        await run_worker(s, Metrics())

    run_db_task(settings, task)


@app.command("mcp")
def mcp() -> None:
    """Serve the MCP tools over stdio for a local AI agent, as the owner of STOREFRONT_MCP_TOKEN."""
    from storefront.core.errors import Unauthenticated

    settings = load_settings()
    if settings.mcp_token is None or not settings.mcp_token.get_secret_value().strip():
        _fail("set STOREFRONT_MCP_TOKEN to an access token or a personal API token (see docs/mcp.md)")
    token = settings.mcp_token.get_secret_value().strip()

    async def task(s: Settings) -> None:
        from storefront.mcp.stdio import serve_stdio

        await serve_stdio(s, token)

    try:
        run_db_task(settings, task)
    except Unauthenticated as exc:
        _fail(f"STOREFRONT_MCP_TOKEN was refused: {exc.message}", 1)


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email.")],
    password: Annotated[str, typer.Option(help="Password for a new account (8 to 128 characters).")],
    name: Annotated[str, typer.Option(help="Display name for a new account.")] = "Administrator",
    reset_password: Annotated[
        bool, typer.Option(help="Also set --password on an existing account (its other logins stay).")
    ] = False,
) -> None:
    """Create an admin account, or promote an existing one (idempotent; its password is kept
    unless --reset-password)."""
    from storefront.identity.schemas import RegisterRequest

    try:
        data = RegisterRequest(email=email, password=password, name=name)
    except ValidationError as exc:
        _fail("; ".join(f"{error['loc'][0]}: {error['msg']}" for error in exc.errors()))
    settings = load_settings()

    async def task(s: Settings) -> tuple[str, bool]:
        from storefront.core.security import PasswordHasher
        from storefront.identity.service import bootstrap_admin

        async with _database(s) as db, db.session_scope() as session:
            user, created = await bootstrap_admin(
                session, PasswordHasher(s), data.email, data.password, data.name, reset_password=reset_password
            )
            return user.email, created

    email_out, created = run_db_task(settings, task)
    if created:
        typer.echo(f"created admin {email_out} with the given password")
    elif reset_password:
        typer.echo(f"promoted {email_out} to admin and set the given password")
    else:
        typer.echo(
            f"promoted {email_out} to admin; its password is unchanged (--password was not used; "
            "add --reset-password to set it)"
        )


@ai_app.command("fill")
def ai_fill(
    concurrency: Annotated[int, typer.Option(help="Products generated at once.", min=1, max=64)] = 4,
) -> None:
    """Write the description and keywords of every product missing them (exit 1 if any failed)."""
    settings = load_settings()

    async def task(s: Settings) -> Any:
        from storefront.ai.dependencies import content_service
        from storefront.ai.fill import count_missing, fill_missing
        from storefront.core.observability import Metrics
        from storefront.runtime import build_runtime

        async with build_runtime(s, Metrics()) as state:
            total = await count_missing(state.db)
            service = content_service(state, state.ai)
            with _progress("products") as bar:
                job = bar.add_task("products", total=total)
                return await fill_missing(state.db, service, concurrency, lambda: bar.advance(job))

    report = run_db_task(settings, task)
    by_provider = ", ".join(f"{name}: {count}" for name, count in sorted(report.providers.items())) or "none"
    typer.echo(f"filled {report.filled} products ({by_provider}), {len(report.failed)} failed")
    if report.budget_spent:
        typer.secho("stopped: the daily AI token budget is spent", fg=typer.colors.YELLOW, err=True)
    if report.failed:
        typer.secho(f"failed product ids: {report.failed[:20]}", fg=typer.colors.YELLOW, err=True)
    if report.failed or report.budget_spent:
        raise typer.Exit(1)


def main() -> None:
    app()
