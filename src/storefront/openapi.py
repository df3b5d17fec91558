"""The OpenAPI schema tells the truth about errors: each operation lists the error statuses
it can answer, every one with the contract's envelope (a named component), and the
headers that come with them. Derived from the code, so it cannot drift from it:

- from each route's dependencies: a bearer token (401), the admin role (403);
- from its shape: path parameters (404), a body (400 malformed JSON, 408 too slow,
  413 too large), a cursor (400), any parameter (422, the envelope with field details);
- from the layers every request passes: 414 and 431 (the request head's size), 429
  (requests in progress per client; not on the probes), 503 (a dependency down; not on
  the liveness probes, which touch nothing);
- statuses a route declares itself (409, 412, ...) keep their descriptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from storefront.core.limits import EXEMPT_PREFIXES as LIMIT_EXEMPT
from storefront.identity.dependencies import get_admin_user, get_principal

ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"$ref": "#/components/schemas/ErrorBody"}},
        "additionalProperties": False,
        "description": "Every error, 4xx and 5xx alike.",
    },
    "ErrorBody": {
        "type": "object",
        "required": ["code", "message", "request_id", "details"],
        "properties": {
            "code": {"type": "string", "examples": ["NOT_FOUND", "VALIDATION_ERROR"]},
            "message": {"type": "string"},
            "request_id": {"type": ["string", "null"], "description": "Also in the X-Request-ID header."},
            "details": {
                "description": "VALIDATION_ERROR: the fields at fault (FieldError); readiness: its checks; "
                "some errors: what they concern (e.g. the missing product ids); otherwise null.",
                "anyOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}, {"type": "null"}],
            },
        },
        "additionalProperties": False,
    },
    "FieldError": {
        "type": "object",
        "required": ["field", "message"],
        "properties": {
            "field": {"type": "string", "description": "Dotted path inside the body, query or path."},
            "message": {"type": "string"},
        },
        "additionalProperties": False,
    },
}
RETRY_AFTER = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": RETRY_AFTER},
    503: {"Retry-After": RETRY_AFTER},
}
DESCRIPTIONS = {
    400: "Malformed request: the body is not JSON, or the cursor is not one of ours",
    401: "Missing, invalid, expired or revoked token",
    403: "The role does not allow it",
    404: "No such resource, or it belongs to someone else",
    408: "The body did not arrive within BODY_READ_TIMEOUT_SECONDS",
    413: "The body is over MAX_BODY_BYTES",
    414: "The path and query string are over MAX_URL_BYTES",
    431: "The request headers are over MAX_HEADER_BYTES in all",
    422: "Invalid fields (`details` names them)",
    429: "Too many requests: failed logins, or requests in progress from this address",
    503: "A dependency (database, Redis, payment or AI provider) is unavailable",
}
PROBES = ("/health", "/health/live")  # they touch no dependency


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def error_statuses(route: Any) -> set[int]:
    """For an API route as mounted (its prefix applied): the error statuses it can answer."""
    calls = set(_calls(route.dependant))
    statuses: set[int] = {414, 431}  # the request head's limits hold for every route
    if get_principal in calls:
        statuses.add(401)
    if get_admin_user in calls:
        statuses.add(403)
    if route.dependant.path_params:
        statuses.add(404)
    if route.body_field is not None:
        statuses |= {400, 408, 413}
    if any(param.name == "cursor" for param in route.dependant.query_params) or any(
        param.name == "cursor" for call in route.dependant.dependencies for param in call.query_params
    ):
        statuses.add(400)
    if not route.path_format.startswith(LIMIT_EXEMPT):
        statuses.add(429)
    if route.path_format not in PROBES:
        statuses.add(503)
    return statuses


def _document(operation: dict[str, Any], statuses: set[int]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in sorted(statuses | {int(code) for code in responses if code.isdigit() and int(code) >= 400}):
        response = responses.setdefault(str(status), {"description": DESCRIPTIONS.get(status, "Error")})
        response["content"] = {"application/json": {"schema": ERROR}}
        if status in HEADERS:
            response["headers"] = HEADERS[status]
        if status == 422:
            response["description"] = DESCRIPTIONS[422]


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes, servers=app.servers
        )
        routes: dict[tuple[str, str], Any] = {}
        for context in iter_route_contexts(app.routes):
            if isinstance(context.original_route, APIRoute):
                route: Any = context  # the route as mounted: prefix and inherited dependencies applied
                for method in route.methods or ():
                    routes[route.path_format, method.lower()] = route
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                mounted = routes.get((path, method))
                if mounted is not None:
                    _document(operation, error_statuses(mounted))
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 body, not ours
            components.pop(name, None)
        components.update(ERROR_SCHEMAS)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
