"""Web-search syntax (``"exact phrase"``, ``-excluded``, ``or``) parsed into a dialect-free
query, the last word also matching as a prefix. Plain Python: each search backend
(``search.py``) renders it for its database."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Term:
    words: tuple[str, ...]  # one word, or the words of a phrase
    negated: bool = False
    phrase: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Disjunction of conjunctions: ``[[a, b], [c]]`` means (a AND b) OR c."""

    groups: tuple[tuple[Term, ...], ...]
    prefix_last: bool  # the final term is a bare word being typed

    @property
    def is_empty(self) -> bool:
        return not any(any(not term.negated for term in group) for group in self.groups)


def parse(text: str) -> SearchQuery:
    groups: list[list[Term]] = [[]]
    for match in _TOKEN.finditer(text):
        negated, phrase, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None and bare.lower() == "or":
            if groups[-1]:
                groups.append([])
            continue
        if phrase is not None:
            words = tuple(word.lower() for word in _WORD.findall(phrase))
            if words:
                groups[-1].append(Term(words, negated=bool(negated), phrase=True))
            continue
        if bare is None:
            continue
        is_negated = bare.startswith("-") and len(bare) > 1
        words = tuple(word.lower() for word in _WORD.findall(bare))
        # "t-shirt" is one term of two adjacent words, as PostgreSQL reads it.
        if words:
            groups[-1].append(Term(words, negated=is_negated, phrase=len(words) > 1))
    cleaned = tuple(tuple(group) for group in groups if group)
    last = cleaned[-1][-1] if cleaned else None
    prefix_last = bool(last and not last.negated and not last.phrase and not text.rstrip().endswith('"'))
    return SearchQuery(cleaned, prefix_last)


def with_alternatives(query: SearchQuery, alternatives: Sequence[Sequence[str]]) -> SearchQuery:
    """``query`` OR each alternative phrasing (its words ANDed; see search expansion in docs/ai.md).

    The alternatives go first: the renderers treat the last term of the last group as
    the word being typed, and that must stay the user's own word, not a synonym's.
    """
    extra = tuple(tuple(Term((word,)) for word in words) for words in alternatives if words)
    return SearchQuery(extra + query.groups, query.prefix_last)


def last_word(query: SearchQuery) -> str | None:
    if not query.prefix_last:
        return None
    return query.groups[-1][-1].words[0]
