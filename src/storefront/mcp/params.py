"""Argument types shared by the tools, with the descriptions an agent reads."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from storefront.core.idempotency import KEY_MAX_LENGTH, KEY_PATTERN
from storefront.core.pagination import PageParams
from storefront.core.params import MAX_ID

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Limit = Annotated[int, Field(ge=1, le=100, description="Items per page (1 to 100).")]
Cursor = Annotated[
    str | None,
    Field(max_length=1024, description="`next_cursor` of the previous page, to read the next one; omit for the first."),
]
IdempotencyKey = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=KEY_MAX_LENGTH,
        pattern=KEY_PATTERN,
        description="Retry-safe: the same key returns the first answer instead of doing it twice.",
    ),
]


def page(limit: int, cursor: str | None) -> PageParams:
    return PageParams(limit=limit, cursor=cursor, offset=None)
