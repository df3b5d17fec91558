"""The MCP server: tools and resources over the services, with the caller's identity
established before every call and failures answered in the API's error envelope."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError, UnexpectedResourceError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, InputRequiredResult
from pydantic import AnyUrl, ValidationError

from storefront import __version__
from storefront.core.context import reset_request_id, set_request_id
from storefront.core.errors import AppError, ReplayedRefusal
from storefront.mcp.cart_tools import register_cart_tools
from storefront.mcp.catalog_tools import register_catalog_tools
from storefront.mcp.dashboard_tools import register_dashboard_tools
from storefront.mcp.errors import (
    app_error_failure,
    failure,
    internal_failure,
    validation_failure,
)
from storefront.mcp.identity import REQUEST_ID_KEY, Identify, ToolContext, calling_as, scope_of
from storefront.mcp.order_tools import register_order_tools
from storefront.mcp.resources import register_resources
from storefront.mcp.todo_tools import register_todo_tools
from storefront.runtime import Runtime

log = structlog.get_logger("storefront.mcp")

INSTRUCTIONS = """\
Storefront: a shop's catalog, and the signed-in user's todos, cart, orders and dashboard.
Every tool acts as that user, with their permissions: customers see only their own
todos and orders; tools marked "Admin only" need the admin role. Money is a decimal
string ("19.99"). Lists return {items, next_cursor}: pass next_cursor back as `cursor`
for the next page. A failed call returns {"error": {"code", "message", "details"}}
with the same codes as the HTTP API (NOT_FOUND, FORBIDDEN, OUT_OF_STOCK,
VALIDATION_ERROR, ...)."""


def _answer(exc: ToolError) -> CallToolResult | None:
    """The envelope for a failed call, or None for the SDK's own answer (an unknown tool)."""
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        return validation_failure(cause)
    if isinstance(cause, AppError):
        if cause.status_code >= 500:
            log.error("mcp_tool_unavailable", code=cause.code, error=cause.message)
        return app_error_failure(cause)
    if isinstance(cause, ReplayedRefusal):
        error = cause.envelope()
        return failure(error["code"], error["message"], error.get("details"))
    if isinstance(exc, UnexpectedToolError):
        log.error("mcp_tool_crashed", exc_info=cause or exc)
        return internal_failure()
    return None


class StorefrontMCP(MCPServer[Any]):
    def __init__(self, identify: Identify) -> None:
        super().__init__(
            name="storefront",
            title="Storefront",
            version=__version__,
            instructions=INSTRUCTIONS,
        )
        self._identify = identify

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: ToolContext | None = None
    ) -> CallToolResult | InputRequiredResult:
        if context is None:  # an in-process call without a request: nobody to act as
            return failure("UNAUTHENTICATED", "Not authenticated")
        # The HTTP request's id (or a fresh one over stdio) in logs and error envelopes.
        request_id = scope_of(context).get(REQUEST_ID_KEY) or uuid.uuid4().hex
        token = set_request_id(request_id)
        try:
            principal = await self._identify(context)
            with calling_as(principal):
                return await super().call_tool(name, arguments, context)
        except AppError as exc:  # from identify: the token stopped working
            return app_error_failure(exc)
        except ToolError as exc:
            answer = _answer(exc)
            if answer is None:
                raise
            return answer
        except MCPError:
            raise  # a protocol error, answered as such by the SDK
        except Exception:
            # identify failed unexpectedly (the database is down, say): the SDK would
            # send the exception's text to the client, so answer here instead.
            log.exception("mcp_identify_failed", tool=name)
            return internal_failure()
        finally:
            reset_request_id(token)

    async def read_resource(
        self, uri: AnyUrl | str, context: ToolContext | None = None
    ) -> list[ReadResourceContents] | InputRequiredResult:
        if context is not None:
            try:
                await self._identify(context)
            except AppError as exc:
                raise ResourceError(f"{exc.code}: {exc.message}") from exc
            except Exception as exc:
                # Logged by the SDK; the client sees only the URI, not the cause.
                raise UnexpectedResourceError(f"Error reading resource {uri}") from exc
        result = await super().read_resource(uri, context)
        return result if isinstance(result, InputRequiredResult) else list(result)


def build_server(state: Runtime, identify: Identify) -> StorefrontMCP:
    server = StorefrontMCP(identify)
    register_catalog_tools(server, state)
    register_todo_tools(server, state)
    register_order_tools(server, state)
    register_cart_tools(server, state)
    register_dashboard_tools(server, state)
    register_resources(server, state)
    return server
