"""Pure ASGI middleware: request context, access log, metrics, request limits.

Pure ASGI rather than ``BaseHTTPMiddleware``: the latter wraps every request in
extra tasks and memory streams, which costs throughput on every call.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from itertools import accumulate

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storefront.core.context import reset_request_id, set_request_id
from storefront.core.errors import (
    AppError,
    BadRequest,
    HeadersTooLarge,
    PayloadTooLarge,
    RequestTimeout,
    UriTooLong,
    error_response,
    internal_error_response,
)
from storefront.core.observability import Metrics
from storefront.core.outages import is_outage, outage_response

access_log = structlog.get_logger("storefront.access")
error_log = structlog.get_logger("storefront.errors")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _request_id(scope: Scope) -> str:
    incoming = Headers(scope=scope).get("x-request-id")
    # Echo a client's id only when it cannot inject anything into logs or headers.
    if incoming and _SAFE_REQUEST_ID.match(incoming):
        return incoming
    return os.urandom(16).hex()


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    # Unmatched paths are grouped so a scanner cannot blow up metric cardinality.
    return path if isinstance(path, str) else "<unmatched>"


# On every response, unless the route set its own (the admin console sends a CSP for its
# pages): no MIME sniffing, no referrer leaking ids in URLs, and for anything but an HTML
# page (the interactive docs) a CSP that lets a response run nothing and be framed nowhere.
_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
_API_CSP = "default-src 'none'; frame-ancestors 'none'"
# HTTPS only, for a year, in production (where TLS ends at the balancer in front).
_HSTS = "max-age=31536000; includeSubDomains"


def _secure(message: Message, hsts: bool) -> None:
    headers = MutableHeaders(scope=message)
    for name, value in _SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if not headers.get("content-type", "").startswith("text/html"):
        headers.setdefault("Content-Security-Policy", _API_CSP)
    if hsts:
        headers.setdefault("Strict-Transport-Security", _HSTS)


class RequestContextMiddleware:
    """Request id, security headers, one access-log line and metrics per request, and the last-resort 500."""

    def __init__(self, app: ASGIApp, metrics: Metrics, hsts: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = set_request_id(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
                _secure(message, self.hsts)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if is_outage(exc) and not response_started:
                # Raised outside the routes' handlers (e.g. a middleware's own query).
                await outage_response(exc)(scope, receive, send_with_id)
                return
            # The traceback goes to the log; the client gets the request id to quote.
            error_log.exception("unhandled_error", method=scope["method"], path=scope["path"])
            if response_started:
                raise
            await internal_error_response()(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            client = scope.get("client")
            access_log.info(
                "request",
                method=method,
                route=route,
                path=scope["path"],
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                client=client[0] if client else None,
            )
            reset_request_id(token)


class HeadLimitsMiddleware:
    """414 for a path and query string longer than ``max_url_bytes``; 431 for request
    headers over ``max_header_bytes`` in all (names, values and their separators).

    Granian refuses on its own, with an empty body, a URI over 65,534 bytes (414),
    more than 100 header fields (431) or a request head over its read buffer (about
    408 KiB, 431); these limits sit below those, so what a client can reasonably send
    too much of is answered here, in the envelope."""

    def __init__(self, app: ASGIApp, max_header_bytes: int, max_url_bytes: int) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.max_url_bytes = max_url_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope["query_string"]
        refusal: AppError | None = None
        if len(path) + len(query) + (1 if query else 0) > self.max_url_bytes:
            refusal = UriTooLong(f"The path and query string are longer than {self.max_url_bytes} bytes")
        elif sum(len(name) + len(value) + 4 for name, value in scope["headers"]) > self.max_header_bytes:
            refusal = HeadersTooLarge(f"The request headers are larger than {self.max_header_bytes} bytes in all")
        if refusal is None:
            await self.app(scope, receive, send)
            return
        response = error_response(refusal.status_code, refusal.code, refusal.message, headers={"Connection": "close"})
        await response(scope, receive, send)


# JSON strings, unrolled so each is one pass (an unterminated one runs to the end, so
# every match moves forward: linear time whatever the input); then only brackets stay.
_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_DEPTH_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` in this JSON text. Linear:
    a body with no more than ``limit`` brackets costs two counts; a crafted 1 MiB body
    (all brackets, or 200,000 strings) tens of milliseconds, about what parsing it costs."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(_DEPTH_STEP, _NOT_BRACKETS)
    # +1 per opening, -1 per closing bracket (signed bytes): the deepest point is the
    # largest running sum.
    return bool(brackets) and max(accumulate(memoryview(brackets).cast("b"))) > limit


_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


def _content_length(scope: Scope) -> int | None:
    # Straight from the raw header list: this runs on every request.
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return b"json" in value.lower()
    return False


class BodyLimitsMiddleware:
    """413 for a body over the size limit, whether announced by Content-Length or
    streamed; 408 for a body that does not arrive within the read timeout (a slow
    client holding a request slot open, byte by byte); 400 for a JSON body whose
    arrays and objects nest deeper than ``max_json_depth`` (checked when it has all
    arrived, before the app parses it)."""

    def __init__(self, app: ASGIApp, max_bytes: int, read_timeout: float, max_json_depth: int = 32) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODYLESS:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._reject(scope, receive, send, PayloadTooLarge(self._too_large))
            return

        deadline = asyncio.get_running_loop().time() + self.read_timeout
        received = 0
        chunks: list[bytes] | None = [] if _is_json(scope) else None
        body_done = False
        refusal: AppError | None = None
        app_started_response = False

        async def limited_receive() -> Message:
            nonlocal received, body_done, refusal
            if body_done:  # afterwards the app only waits for a disconnect: no deadline
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                refusal = RequestTimeout(f"The request body did not arrive within {self.read_timeout:g} s")
                raise refusal from None
            if message["type"] == "http.request":
                body_done = not message.get("more_body", False)
                received += len(message.get("body", b""))
                # Servers enforce a declared length; only chunked bodies need counting.
                if declared is None and received > self.max_bytes:
                    refusal = PayloadTooLarge(self._too_large)
                    raise refusal
                if chunks is not None:
                    chunks.append(message.get("body", b""))
                    whole = b"".join(chunks) if body_done else b""
                    if body_done and json_too_deep(whole, self.max_json_depth):
                        refusal = BadRequest(f"The JSON body nests deeper than {self.max_json_depth} levels")
                        raise refusal
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_started_response
            # Whatever the app made of the aborted read (FastAPI turns it into a
            # 400), the client gets the 413 or 408.
            if refusal is not None:
                return
            app_started_response = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except AppError as exc:
            if exc is not refusal or app_started_response:
                raise
        if refusal is not None and not app_started_response:
            await self._reject(scope, receive, send, refusal)

    @property
    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes"

    @staticmethod
    async def _reject(scope: Scope, receive: Receive, send: Send, refusal: AppError) -> None:
        response = error_response(refusal.status_code, refusal.code, refusal.message, headers={"Connection": "close"})
        await response(scope, receive, send)
