"""``/mcp``: bearer authentication in front of the SDK's streamable-HTTP transport.

Stateless with JSON responses: every POST is a complete exchange, no session
lives in the process, so any API process behind a load balancer can answer any
call and the API scales out as before. The server and its session manager are
built in the app's lifespan from that lifespan's runtime, so one process can
build and run the app more than once (tests do).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from storefront.core.context import current_request_id
from storefront.core.errors import AppError, ServiceUnavailable, Unauthenticated, error_response
from storefront.mcp.identity import PRINCIPAL_KEY, REQUEST_ID_KEY, authenticate, from_http_request
from storefront.mcp.server import build_server
from storefront.runtime import Runtime

# Host and Origin checks (DNS-rebinding protection) guard servers that trust the
# browser's ambient credentials. Here every call needs a bearer token a page from
# another origin cannot read, so they add nothing and would break proxies.
NO_HOST_CHECKS = TransportSecuritySettings(enable_dns_rebinding_protection=False)


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class McpEndpoint:
    """The ASGI app at ``/mcp``; serves once ``running()`` has started it."""

    # The access log and metrics label requests by ``scope["route"].path``, which
    # FastAPI sets for its own routes only; the endpoint names its route itself.
    path = "/mcp"

    def __init__(self) -> None:
        self._manager: StreamableHTTPSessionManager | None = None
        self._state: Runtime | None = None

    @asynccontextmanager
    async def running(self, state: Runtime) -> AsyncIterator[None]:
        server = build_server(state, from_http_request)
        # Builds the session manager; the Starlette app it returns is not used, since
        # authentication and routing are ours.
        server.streamable_http_app(stateless_http=True, json_response=True, transport_security=NO_HOST_CHECKS)
        manager = server.session_manager
        # The manager's task group must be entered and left by one task, but a
        # lifespan may be entered and left by different ones (test fixtures are):
        # a task of its own hosts it for the lifespan's duration.
        started, stop = asyncio.Event(), asyncio.Event()

        async def host() -> None:
            async with manager.run():
                started.set()
                await stop.wait()

        hosting = asyncio.create_task(host(), name="mcp-session-manager")
        waiting = asyncio.create_task(started.wait())
        await asyncio.wait({hosting, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if hosting.done():
            hosting.result()  # failed to start: raise its error
        self._manager, self._state = manager, state
        try:
            yield
        finally:
            self._manager = self._state = None
            stop.set()
            await hosting

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("route", self)
        if scope["method"] != "POST":
            # Stateless: there is no event stream to GET and no session to DELETE. The
            # transport would hold a GET open forever; the spec allows a 405 instead.
            refusal = error_response(405, "METHOD_NOT_ALLOWED", "Use POST for MCP requests", headers={"Allow": "POST"})
            await refusal(scope, receive, send)
            return
        manager, state = self._manager, self._state
        try:
            if manager is None or state is None:
                raise ServiceUnavailable("The MCP server is not running")
            token = bearer_token(Headers(scope=scope))
            if token is None:
                raise Unauthenticated()
            principal = await authenticate(state, token)
        except AppError as exc:
            response = error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)
            await response(scope, receive, send)
            return
        # The tools run in the session manager's tasks, not this one: the caller and
        # the request id travel with the request's scope.
        scope = {**scope, PRINCIPAL_KEY: principal, REQUEST_ID_KEY: current_request_id()}
        await manager.handle_request(scope, receive, send)
