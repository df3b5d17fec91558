"""One error hierarchy and the one place that turns errors into the contract's envelope."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar, cast

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from storefront.core.context import current_request_id

log = structlog.get_logger("storefront.errors")


class AppError(Exception):
    """Base of every error a client may see. Subclasses fix the status and code."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"
    # Some failures are outcomes worth keeping: detecting a replayed refresh token
    # revokes the whole login, and that revocation must survive the 401. The unit
    # of work commits instead of rolling back when the error says so.
    keep_changes: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


class BadRequest(AppError):
    status_code = 400
    code = "BAD_REQUEST"


class Unauthenticated(AppError):
    status_code = 401
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "Not authenticated", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(AppError):
    status_code = 403
    code = "FORBIDDEN"


class NotFound(AppError):
    status_code = 404
    code = "NOT_FOUND"


class Conflict(AppError):
    status_code = 409
    code = "CONFLICT"


class PreconditionFailed(AppError):
    status_code = 412
    code = "PRECONDITION_FAILED"


class RequestTimeout(AppError):
    status_code = 408
    code = "REQUEST_TIMEOUT"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class UriTooLong(AppError):
    status_code = 414
    code = "URI_TOO_LONG"


class HeadersTooLarge(AppError):
    status_code = 431
    code = "HEADERS_TOO_LARGE"


class InvalidInput(AppError):
    """A field-level validation failure found by business rules (not by the schema)."""

    status_code = 422
    code = "VALIDATION_ERROR"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", details=[{"field": field, "message": message}])


class RateLimited(AppError):
    status_code = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(AppError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"


class ReplayedRefusal(Exception):
    """A refusal stored under an idempotency key, answered again byte for byte."""

    def __init__(self, status_code: int, body: bytes) -> None:
        super().__init__(f"replayed refusal ({status_code})")
        self.status_code = status_code
        self.body = body

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = json.loads(self.body)["error"]
        return error


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "request_id": current_request_id(),
            "details": details,
        }
    }


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status_code, headers=headers)


_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    414: "URI_TOO_LONG",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    431: "HEADERS_TOO_LARGE",
    503: "SERVICE_UNAVAILABLE",
}


def _field_path(loc: Sequence[int | str]) -> str:
    # FastAPI prefixes the location ("body", "query", "path", "header"); the contract
    # names the field by its path inside that location.
    parts = list(loc[1:]) if loc and loc[0] in {"body", "query", "path", "header", "cookie"} else list(loc)
    return ".".join(str(part) for part in parts) or str(loc[0] if loc else "body")


async def _app_error(_: Request, exc: Exception) -> Response:
    error = cast(AppError, exc)
    return error_response(error.status_code, error.code, error.message, error.details, error.headers)


async def _replayed_refusal(_: Request, exc: Exception) -> Response:
    refusal = cast(ReplayedRefusal, exc)
    return Response(
        refusal.body,
        status_code=refusal.status_code,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


async def _validation_error(_: Request, exc: Exception) -> Response:
    errors = cast(RequestValidationError, exc).errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return error_response(400, "BAD_REQUEST", "The request body is not valid JSON")
    details = [{"field": _field_path(error.get("loc", ())), "message": error.get("msg", "")} for error in errors]
    return error_response(422, "VALIDATION_ERROR", "The request is not valid", details)


def _allowed_methods(request: Request) -> str:
    """Every method the path answers: Starlette's 405 names only the first route's that
    matched the path, but a path has a route per method here."""
    methods: set[str] = set()
    path = request.scope["path"]
    for route in iter_route_contexts(request.app.router.routes):  # routers' routes, prefixes applied
        pattern = getattr(route, "path_regex", None)
        if pattern is not None and pattern.match(path):
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> Response:
    exc = cast(StarletteHTTPException, exc)
    code = _STATUS_CODES.get(exc.status_code, "ERROR" if exc.status_code < 500 else "INTERNAL_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        message = "Not found"
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return error_response(exc.status_code, code, message, headers=headers)


def internal_error_response() -> JSONResponse:
    """The 500 a client sees: the request id to quote, nothing of the cause."""
    return error_response(500, "INTERNAL_ERROR", "An unexpected error occurred")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(ReplayedRefusal, _replayed_refusal)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
