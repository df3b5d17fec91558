"""CORS exactly as configured (``CORS_ORIGINS``), never with credentials.

The API authenticates by the ``Authorization`` header only, which a browser never
sends on its own, so no cross-site request needs cookies: ``Access-Control-Allow-
Credentials`` is never sent, whether the origins are a list or ``*``. Starlette's
middleware does the matching; this subclass answers a refused preflight (an origin,
method or header not allowed) in the contract's envelope, with no
``Access-Control-Allow-*`` header at all, instead of Starlette's plain-text 400 that
still carried the allowed methods and the mirrored request headers; and a request from
an origin not listed gets no ``Access-Control-*`` header either (Starlette still sent
``Expose-Headers``), only ``Vary: Origin`` so that a shared cache keeps the answers apart.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storefront.core.errors import error_response

EXPOSED_HEADERS = ("X-Request-ID", "ETag", "Location", "Retry-After", "Idempotent-Replayed")


class Cors(CORSMiddleware):
    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=["*"],
            allow_headers=["*"],
            allow_credentials=False,
            expose_headers=EXPOSED_HEADERS,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        # Starlette's body is "Disallowed CORS origin, method".
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ")
        return error_response(
            400,
            "BAD_REQUEST",
            f"CORS preflight refused: {refused} not allowed",
            headers={"Vary": response.headers["vary"]},
        )

    async def simple_response(self, scope: Scope, receive: Receive, send: Send, request_headers: Headers) -> None:
        if self.is_allowed_origin(origin=request_headers["origin"]):
            await super().simple_response(scope, receive, send, request_headers)
            return

        async def send_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_vary)
