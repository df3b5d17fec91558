"""A dependency that is down answers 503, not 500.

A database that refuses connections (restarting, out of connection slots,
``ALLOW_CONNECTIONS false``), drops them mid-request, a pool with no free
connection, or SQLite's write lock held past the busy timeout: none of these is
a bug in the request or in the code, and the client should try again shortly.
The contract's answer is ``503 SERVICE_UNAVAILABLE`` with ``Retry-After``; a
500 would send the operator looking for a bug and the client away for good.
Any other database error stays a 500, logged with its traceback.
"""

from __future__ import annotations

import sqlite3

import structlog
from fastapi import FastAPI, Request
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.responses import Response

from storefront.core.errors import error_response, internal_error_response

log = structlog.get_logger("storefront.errors")

RETRY_AFTER_SECONDS = 2
# PostgreSQL error classes that mean "the server cannot take this now" (appendix A of
# its manual): 08 connection exception, 53 insufficient resources (53300: too many
# connections), 57P operator intervention (57P01 terminated by an administrator,
# 57P03 cannot connect now), 40001/40P01 serialization failure and deadlock, 55P03 lock
# not available, 55000, which is what a database with ALLOW_CONNECTIONS false answers, and
# 57014, a statement cancelled by DB_STATEMENT_TIMEOUT_SECONDS (the database is too slow now).
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57P")
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "55000", "57014"})
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says a backing service is unreachable or overloaded, not that we erred."""
    if isinstance(exc, PoolTimeout | ConnectionError | TimeoutError | RedisConnectionError | RedisTimeoutError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True  # the connection broke under us
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(sqlstate, str):
        return sqlstate in _TRANSIENT_SQLSTATES or sqlstate.startswith(_TRANSIENT_SQLSTATE_PREFIXES)
    if isinstance(orig, sqlite3.OperationalError):
        return str(orig).startswith(_SQLITE_BUSY)
    return False


def outage_response(exc: BaseException) -> Response:
    log.warning("dependency_unavailable", error=type(exc).__name__, reason=str(exc)[:300])
    return error_response(
        503,
        "SERVICE_UNAVAILABLE",
        "The service is temporarily unavailable; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _maybe_outage(request: Request, exc: Exception) -> Response:
    if is_outage(exc):
        return outage_response(exc)
    log.error("unhandled_error", method=request.method, path=request.url.path, exc_info=exc)
    return internal_error_response()


def install_outage_handlers(app: FastAPI) -> None:
    for kind in (DBAPIError, PoolTimeout, ConnectionError, TimeoutError, RedisConnectionError, RedisTimeoutError):
        app.add_exception_handler(kind, _maybe_outage)
