"""Cursor pagination: opaque, tamper-evident cursors and the page envelope."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from storefront.core.errors import BadRequest, InvalidInput

MAX_OFFSET = 10_000

T = TypeVar("T")
U = TypeVar("U")


# base64url(body) "." base64url(signature), as encode() writes it; empty is the first page.
CURSOR_PATTERN = "^([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)?$"


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def split_page(rows: Sequence[T], limit: int, position: Callable[[T], list[Any]]) -> tuple[list[T], list[Any] | None]:
    """Given up to ``limit + 1`` rows, the page and the keyset position after it (None at the end)."""
    items = list(rows[:limit])
    return items, (position(items[-1]) if len(rows) > limit else None)


@dataclass(frozen=True, slots=True)
class IdKeyset:
    """Where a page of rows ordered by id starts, for a repository to apply.

    One more row than ``limit`` is fetched: its presence says a next page exists.
    """

    after: int | None  # the id of the previous page's last row (None: the first page)
    limit: int
    offset: int | None = None

    def apply(
        self, statement: Select[Any], id_column: InstrumentedAttribute[int], *, newest_first: bool = True
    ) -> Select[Any]:
        if self.after is not None:
            statement = statement.where(id_column < self.after if newest_first else id_column > self.after)
        statement = statement.order_by(id_column.desc() if newest_first else id_column.asc()).limit(self.limit + 1)
        return statement.offset(self.offset) if self.offset else statement


class CursorCodec:
    """Signs cursor payloads so a client can neither forge nor edit one.

    A cursor carries the keyset position (the sort key and id of the last row)
    and the name of the listing it belongs to; a cursor from one listing or sort
    is refused by another.
    """

    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(b"storefront-cursor\x00" + key).digest()

    def _sign(self, body: bytes) -> str:
        mac = hmac.new(self._key, body, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def encode(self, scope: str, position: list[Any]) -> str:
        raw = json.dumps([scope, position], separators=(",", ":"), default=str).encode()
        body = base64.urlsafe_b64encode(raw).rstrip(b"=")
        return f"{body.decode()}.{self._sign(body)}"

    def keyset(self, scope: str, page: PageParams) -> IdKeyset:
        """The keyset a listing by id of ``scope`` reads, from the request's page parameters."""
        after = int(self.decode(scope, page.cursor)[0]) if page.cursor else None
        return IdKeyset(after, page.limit, page.offset)

    def id_page(self, scope: str, rows: Sequence[Any], page: IdKeyset, convert: Callable[[Any], U]) -> Page[U]:
        """The page from up to ``limit + 1`` rows ordered by id, with the cursor to the next."""
        items, position = split_page(rows, page.limit, lambda row: [row.id])
        return Page(
            items=[convert(row) for row in items], next_cursor=self.encode(scope, position) if position else None
        )

    def decode(self, scope: str, cursor: str) -> list[Any]:
        body, _, signature = cursor.partition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body.encode())):
            raise BadRequest("Invalid cursor")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            cursor_scope, position = json.loads(raw)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise BadRequest("Invalid cursor") from exc
        if cursor_scope != scope or not isinstance(position, list):
            raise BadRequest("This cursor belongs to another listing")
        return position


class PageParams(BaseModel):
    limit: int
    cursor: str | None
    offset: int | None


async def _page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page.")] = 20,
    cursor: Annotated[
        str | None,
        # The shape is in the schema; the signature is checked by decode() (400 by the contract).
        Query(max_length=1024, description="From the previous page.", json_schema_extra={"pattern": CURSOR_PATTERN}),
    ] = None,
    offset: Annotated[int | None, Query(ge=0, le=MAX_OFFSET, description="Random access; not with `cursor`.")] = None,
) -> PageParams:
    if cursor is not None and offset is not None:
        raise InvalidInput("offset", "cannot be combined with cursor")
    return PageParams(limit=limit, cursor=cursor, offset=offset)


PageParamsDep = Annotated[PageParams, Depends(_page_params)]
