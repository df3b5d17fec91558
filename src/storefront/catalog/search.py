"""Full-text search: one interface, a PostgreSQL and a SQLite implementation, each of
which parses the web-search syntax, renders it for its database, and runs it.

Both apply the listing filters, rank title matches above description matches, and
page by keyset on (score, id), where a higher score is a better match. Only a capped
number of candidates is ranked, so a term found in half the catalog costs no more
than a rare one. The reader (``reads.py``) only caches and encodes cursors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncConnection

from storefront.catalog import repository
from storefront.catalog.models import Product
from storefront.catalog.schemas import ProductFilters
from storefront.catalog.search_syntax import SearchQuery, Term, parse
from storefront.core.sqltypes import AnyRow, AnySelect


def _combine(
    parts: list[ColumnElement[object]], function: Callable[..., ColumnElement[object]]
) -> ColumnElement[object]:
    combined = parts[0]
    for part in parts[1:]:
        combined = function(combined, part)
    return combined


def _conjunctions(query: SearchQuery) -> list[tuple[list[tuple[Term, bool]], list[Term]]]:
    """Per OR-group: the positive terms (with whether each is the prefix word) and the negated ones."""
    result = []
    for group_index, group in enumerate(query.groups):
        is_last_group = group_index == len(query.groups) - 1
        positives = [
            (term, query.prefix_last and is_last_group and index == len(group) - 1)
            for index, term in enumerate(group)
            if not term.negated
        ]
        if positives:  # "everything except x" matches nothing, on both backends
            result.append((positives, [term for term in group if term.negated]))
    return result


# A rendered query: its shape (what the statement's structure depends on, hashable, with
# parameter names) and the values bound to those names.
Rendered = tuple[Hashable, dict[str, Any]]


class _Slots:
    """Names bound parameters in order (v0, v1, ...) and keeps their values."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        name = f"v{len(self.values)}"
        self.values[name] = value
        return name


class SearchBackend(ABC):
    """What both backends share: parsing, and the ranked, filtered, keyset-paged statement
    they run around their own matching and scoring (``matches``).

    A query is rendered into a shape and values; the statement is built once per shape
    (with its filters, cursor and offset) and its values bound at execution: building the
    nested selects per request cost more than half of an uncached search's CPU
    (docs/performance.md, issue 16, row 3).
    """

    def __init__(self, candidate_limit: int) -> None:
        self.candidate_limit = candidate_limit
        self._statements = lru_cache(maxsize=512)(self._build)

    def parse(self, text: str) -> SearchQuery:
        return parse(text)

    @abstractmethod
    def render(self, query: SearchQuery) -> Rendered | None:
        """The query's shape and values for ``matches`` (None: nothing can match)."""

    @abstractmethod
    def matches(self, shape: Hashable) -> Select[tuple[int, float]]:
        """Select (product id, score) of products matching a rendered shape, its values as
        bound parameters; each backend renders the query for its database here."""

    def _build(self, shape: Hashable, filters: ProductFilters, after: bool, offset: bool) -> AnySelect:
        """Best match first, keyset on (score, id); only ``candidate_limit`` matches are ranked.

        Three layers: the capped candidates with their scores, the page of them in rank
        order, and only then the product and category columns for that page (joining
        back every candidate would cost one index probe per candidate).
        """
        candidates = (
            repository.filtered(self.matches(shape), filters).limit(self.candidate_limit).subquery("candidates")
        )
        page = select(candidates.c.id, candidates.c.score)
        if after:
            score, last_id = bindparam("after_score", type_=Float), bindparam("after_id", type_=Integer)
            page = page.where(
                or_(candidates.c.score < score, and_(candidates.c.score == score, candidates.c.id > last_id))
            )
        page = page.order_by(candidates.c.score.desc(), candidates.c.id.asc()).limit(bindparam("limit", type_=Integer))
        if offset:
            page = page.offset(bindparam("offset", type_=Integer))
        top = page.subquery("top")
        return (
            repository.product_columns()
            .join(top, top.c.id == Product.id)
            .add_columns(top.c.score)
            .order_by(top.c.score.desc(), Product.id.asc())
        )

    def statement(
        self, query: SearchQuery, filters: ProductFilters, limit: int, after: list[Any] | None, offset: int | None
    ) -> tuple[AnySelect, dict[str, Any]] | None:
        """The statement and its values (None: nothing can match)."""
        rendered = self.render(query)
        if rendered is None:
            return None
        shape, values = rendered
        statement = self._statements(shape, repository.filter_shape(filters), after is not None, bool(offset))
        params = values | repository.filter_params(filters) | {"limit": limit}
        if after is not None:
            params |= {"after_score": float(after[0]), "after_id": int(after[1])}
        if offset:
            params["offset"] = offset
        return statement, params

    async def search(
        self,
        connection: AsyncConnection,
        query: SearchQuery,
        filters: ProductFilters,
        limit: int,
        after: list[Any] | None,
        offset: int | None,
    ) -> list[AnyRow]:
        """Up to ``limit`` products matching ``query``, best first, each row with its ``score``."""
        built = self.statement(query, filters, limit, after, offset)
        if built is None:
            return []
        return list((await connection.execute(*built)).all())


class PostgresSearch(SearchBackend):
    """A stored, weighted ``tsvector`` (title A, description B) with a GIN index."""

    vector = literal_column("products.search_vector", type_=TSVECTOR)

    def render(self, query: SearchQuery) -> Rendered | None:
        # Shape: per OR-group, its parts: ("full", name), ("prefix", full name, partial name)
        # or ("not", name); the names' values are web-search text and a prefix pattern.
        slot = _Slots()
        groups = []
        for positives, negatives in _conjunctions(query):
            parts: list[tuple[str, ...]] = []
            for term, prefix in positives:
                full = slot(_websearch_text(term))
                # The word being typed: its stem, or any indexed lexeme it begins.
                parts.append(("prefix", full, slot(f"{term.words[0]}:*")) if prefix else ("full", full))
            parts += [("not", slot(_websearch_text(term))) for term in negatives]
            groups.append(tuple(parts))
        return (tuple(groups), slot.values) if groups else None

    @staticmethod
    def _part(part: tuple[str, ...]) -> ColumnElement[object]:
        full: ColumnElement[object] = func.websearch_to_tsquery(
            literal("english", REGCONFIG), bindparam(part[1], type_=String), type_=TSQUERY
        )
        if part[0] == "not":
            negated: ColumnElement[object] = func.tsquery_not(full, type_=TSQUERY)
            return negated
        if part[0] == "full":
            return full
        partial = func.to_tsquery(literal("simple", REGCONFIG), bindparam(part[2], type_=String), type_=TSQUERY)
        combined: ColumnElement[object] = func.tsquery_or(full, partial, type_=TSQUERY)
        return combined

    def tsquery(self, shape: Hashable) -> ColumnElement[object]:
        groups = [
            _combine([self._part(part) for part in group], lambda a, b: func.tsquery_and(a, b, type_=TSQUERY))
            for group in cast(tuple[tuple[tuple[str, ...], ...], ...], shape)
        ]
        return _combine(groups, lambda a, b: func.tsquery_or(a, b, type_=TSQUERY))

    def matches(self, shape: Hashable) -> Select[tuple[int, float]]:
        tsquery = self.tsquery(shape)
        score = func.ts_rank(self.vector, tsquery, type_=Float).label("score")
        return select(Product.id, score).where(self.vector.op("@@")(tsquery))


def _websearch_text(term: Term) -> str:
    text = " ".join(term.words)
    return f'"{text}"' if term.phrase else text


def _fts5_term(term: Term, prefix: bool) -> str:
    quoted = '"' + " ".join(term.words) + '"'
    return quoted + ("*" if prefix else "")


def to_fts5(query: SearchQuery) -> str | None:
    """An FTS5 MATCH expression; every word is quoted, so user input is never syntax."""
    rendered_groups: list[str] = []
    for positives, negatives in _conjunctions(query):
        expression = " AND ".join(_fts5_term(term, prefix) for term, prefix in positives)
        for negative in negatives:
            expression = f"({expression}) NOT {_fts5_term(negative, False)}"
        rendered_groups.append(f"({expression})")
    return " OR ".join(rendered_groups) or None


class SqliteSearch(SearchBackend):
    """An FTS5 table over title and description, kept in sync by triggers, ranked by bm25."""

    fts: ColumnElement[Any] = literal_column("products_fts")
    table = table("products_fts", column("rowid"))
    # bm25 weights per column: a title hit counts ten times a description hit.
    bm25 = func.bm25(literal_column("products_fts"), 10.0, 1.0, type_=Float)

    def render(self, query: SearchQuery) -> Rendered | None:
        # One shape: the whole query is one MATCH expression.
        expression = to_fts5(query)
        return ("fts5", {"match": expression}) if expression is not None else None

    def matches(self, shape: Hashable) -> Select[tuple[int, float]]:
        # bm25 is lower for better matches; negate it so higher is better everywhere.
        score = (-self.bm25).label("score")
        return (
            select(Product.id, score)
            .select_from(Product)
            .join(self.table, self.table.c.rowid == Product.id)
            .where(self.fts.op("MATCH")(bindparam("match", type_=String)))
        )


def search_backend(dialect: str, candidate_limit: int) -> SearchBackend:
    if dialect == "postgresql":
        return PostgresSearch(candidate_limit)
    return SqliteSearch(candidate_limit)
