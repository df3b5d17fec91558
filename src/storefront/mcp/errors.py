"""Failed tool calls in the shape of the HTTP error envelope.

An agent reads the same ``{"error": {"code", "message", "request_id", "details"}}``
a client of the API would get, both as text (what a model reads) and as
structured content (what a program reads). Nothing of an unexpected exception
reaches the caller: it is logged, and the caller sees INTERNAL_ERROR.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mcp_types import CallToolResult, TextContent
from pydantic import ValidationError

from storefront.core.errors import AppError, error_body


def failure(code: str, message: str, details: Any = None) -> CallToolResult:
    body = error_body(code, message, details)
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(body, default=str))],
        structured_content=body,
        is_error=True,
    )


def _field(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc) or "arguments"


def validation_failure(exc: ValidationError) -> CallToolResult:
    details = [{"field": _field(error["loc"]), "message": error["msg"]} for error in exc.errors()]
    return failure("VALIDATION_ERROR", "The arguments are not valid", details)


def app_error_failure(exc: AppError) -> CallToolResult:
    return failure(exc.code, exc.message, exc.details)


def internal_failure() -> CallToolResult:
    return failure("INTERNAL_ERROR", "An unexpected error occurred")
