"""Full-text search: one interface, a PostgreSQL and a SQLite implementation, each of
which parses the web-search syntax, renders it for its database, and runs it.

Both apply the listing filters, rank title matches above description matches, and
page by keyset on (score, id), where a higher score is a better match. Only a capped
number of candidates is ranked, so a term found in half the catalog costs no more
than a rare one. The reader (``reads.py``) only caches and encodes cursors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, column, func, literal, literal_column, or_, select, table
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


class SearchBackend(ABC):
    """What both backends share: parsing, and the ranked, filtered, keyset-paged statement
    they run around their own matching and scoring (``matches``)."""

    def __init__(self, candidate_limit: int) -> None:
        self.candidate_limit = candidate_limit

    def parse(self, text: str) -> SearchQuery:
        return parse(text)

    @abstractmethod
    def matches(self, query: SearchQuery) -> Select[tuple[int, float]] | None:
        """Select (product id, score) of products matching ``query`` (None: nothing can match);
        each backend renders the query for its database here."""

    def statement(
        self, query: SearchQuery, filters: ProductFilters, limit: int, after: list[Any] | None, offset: int | None
    ) -> AnySelect | None:
        """Best match first, keyset on (score, id); only ``candidate_limit`` matches are ranked.

        Three layers: the capped candidates with their scores, the page of them in rank
        order, and only then the product and category columns for that page (joining
        back every candidate would cost one index probe per candidate).
        """
        matches = self.matches(query)
        if matches is None:
            return None
        candidates = repository.filtered(matches, filters).limit(self.candidate_limit).subquery("candidates")
        page = select(candidates.c.id, candidates.c.score)
        if after is not None:
            score, last_id = float(after[0]), int(after[1])
            page = page.where(
                or_(candidates.c.score < score, and_(candidates.c.score == score, candidates.c.id > last_id))
            )
        page = page.order_by(candidates.c.score.desc(), candidates.c.id.asc()).limit(limit)
        if offset:
            page = page.offset(offset)
        top = page.subquery("top")
        return (
            repository.product_columns()
            .join(top, top.c.id == Product.id)
            .add_columns(top.c.score)
            .order_by(top.c.score.desc(), Product.id.asc())
        )

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
        statement = self.statement(query, filters, limit, after, offset)
        if statement is None:
            return []
        return list((await connection.execute(statement)).all())


class PostgresSearch(SearchBackend):
    """A stored, weighted ``tsvector`` (title A, description B) with a GIN index."""

    vector = literal_column("products.search_vector", type_=TSVECTOR)

    @staticmethod
    def _term(term: Term, prefix: bool) -> ColumnElement[object]:
        text = " ".join(term.words)
        full: ColumnElement[object] = func.websearch_to_tsquery(
            literal("english", REGCONFIG), literal(f'"{text}"' if term.phrase else text), type_=TSQUERY
        )
        if not prefix:
            return full
        # The word being typed: its stem, or any indexed lexeme it begins.
        partial = func.to_tsquery(literal("simple", REGCONFIG), literal(f"{term.words[0]}:*"), type_=TSQUERY)
        combined: ColumnElement[object] = func.tsquery_or(full, partial, type_=TSQUERY)
        return combined

    def tsquery(self, query: SearchQuery) -> ColumnElement[object] | None:
        groups = []
        for positives, negatives in _conjunctions(query):
            parts = [self._term(term, prefix) for term, prefix in positives]
            parts += [func.tsquery_not(self._term(term, False), type_=TSQUERY) for term in negatives]
            groups.append(_combine(parts, lambda a, b: func.tsquery_and(a, b, type_=TSQUERY)))
        return _combine(groups, lambda a, b: func.tsquery_or(a, b, type_=TSQUERY)) if groups else None

    def matches(self, query: SearchQuery) -> Select[tuple[int, float]] | None:
        tsquery = self.tsquery(query)
        if tsquery is None:
            return None
        score = func.ts_rank(self.vector, tsquery, type_=Float).label("score")
        return select(Product.id, score).where(self.vector.op("@@")(tsquery))


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

    def matches(self, query: SearchQuery) -> Select[tuple[int, float]] | None:
        expression = to_fts5(query)
        if expression is None:
            return None
        # bm25 is lower for better matches; negate it so higher is better everywhere.
        score = (-self.bm25).label("score")
        return (
            select(Product.id, score)
            .select_from(Product)
            .join(self.table, self.table.c.rowid == Product.id)
            .where(self.fts.op("MATCH")(expression))
        )


def search_backend(dialect: str, candidate_limit: int) -> SearchBackend:
    if dialect == "postgresql":
        return PostgresSearch(candidate_limit)
    return SqliteSearch(candidate_limit)
