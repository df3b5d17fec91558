"""Full-text search: one interface, a PostgreSQL and a SQLite implementation.

Both take the same parsed query (see ``query.py``), apply the listing filters,
rank title matches above description matches, and page by keyset on
(score, id), where a higher score is a better match. Only a capped number of
candidates is ranked, so a term found in half the catalog costs no more than a
rare one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Float, Select, column, func, literal, literal_column, select, table
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY, TSVECTOR

from storefront.catalog.models import Product
from storefront.catalog.query import SearchQuery, Term, to_fts5


class SearchBackend(Protocol):
    def matches(self, query: SearchQuery) -> Select[tuple[int, float]] | None:
        """Select (product id, score) of products matching ``query`` (None: nothing can match).

        The statement selects from ``products`` so callers can add listing filters.
        """


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


class PostgresSearch:
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


class SqliteSearch:
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


def search_backend(dialect: str) -> SearchBackend:
    return PostgresSearch() if dialect == "postgresql" else SqliteSearch()
