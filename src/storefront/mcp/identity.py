"""Who is calling a tool, and what they may do: the HTTP API's rules, unchanged.

Over HTTP the bearer token was checked before the request reached the MCP
transport (see ``http.py``), and the caller rides on the request. Over stdio the
process holds one token (``STOREFRONT_MCP_TOKEN``), checked again on every call
so a revoked or expired token, or a deactivated account, stops working at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from mcp.server.mcpserver import Context

from storefront.core.errors import Forbidden, Unauthenticated
from storefront.identity.dependencies import auth_service
from storefront.identity.models import Role, User
from storefront.identity.service import Principal
from storefront.runtime import Runtime

ToolContext = Context[Any, Any]

# Keys our /mcp endpoint adds to the ASGI scope for the tools of that request.
PRINCIPAL_KEY = "storefront.principal"
REQUEST_ID_KEY = "storefront.request_id"


_caller: ContextVar[Principal | None] = ContextVar("mcp_caller", default=None)


class Identify(Protocol):
    async def __call__(self, ctx: ToolContext) -> Principal: ...


def caller() -> Principal:
    """Who made the tool call being served (set by the server before the tool runs)."""
    principal = _caller.get()
    if principal is None:
        raise Unauthenticated()
    return principal


@contextmanager
def calling_as(principal: Principal) -> Iterator[None]:
    token = _caller.set(principal)
    try:
        yield
    finally:
        _caller.reset(token)


async def authenticate(state: Runtime, token: str) -> Principal:
    """The principal behind an access token or a personal API token (Unauthenticated if none)."""
    # A read-only session of its own, as for HTTP requests: no transaction held.
    async with state.db.read_sessionmaker() as session:
        return await auth_service(state, session).authenticate(token)


def scope_of(ctx: ToolContext) -> dict[str, Any]:
    """The ASGI scope of the HTTP request carrying this call ({} over stdio)."""
    request = ctx.request_context.request
    scope = getattr(request, "scope", None)
    return scope if isinstance(scope, dict) else {}


async def from_http_request(ctx: ToolContext) -> Principal:
    principal = scope_of(ctx).get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise Unauthenticated()
    return principal


class FixedToken:
    """The identity of a stdio server: its one token, verified on each call."""

    def __init__(self, state: Runtime, token: str) -> None:
        self.state = state
        self.token = token

    async def __call__(self, ctx: ToolContext) -> Principal:
        return await authenticate(self.state, self.token)


def require_admin(user: User) -> None:
    if user.role != Role.ADMIN:
        raise Forbidden("This action needs the admin role")


def owner_scope(user: User) -> int | None:
    """Whose orders a user may see: their own, or (admins) everyone's."""
    return None if user.role == Role.ADMIN else user.id
