"""What goes in (a product's facts) and what comes out (validated, markup-free content)."""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import asdict, dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

MAX_DESCRIPTION = 1000
MAX_KEYWORD = 60
MIN_KEYWORDS, MAX_KEYWORDS = 5, 10
# Part of every cache key: a change of prompt or rules must not reuse old answers.
CONTENT_VERSION = "1"

Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_KEYWORD)]


class GeneratedContent(BaseModel):
    """The structured output every provider must return (also the schema sent to it)."""

    model_config = ConfigDict(extra="forbid")

    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_DESCRIPTION)]
    seo_keywords: Annotated[list[Keyword], Field(min_length=MIN_KEYWORDS, max_length=MAX_KEYWORDS)]


class OutputRejected(Exception):
    """A provider answered, but not with content we may store."""


@dataclass(frozen=True, slots=True)
class ProductFacts:
    """Everything a generator may know about a product: its own data, nothing else."""

    title: str
    category: str
    price: str
    existing_description: str = ""

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    def input_hash(self) -> str:
        """The cache key: the same facts are never paid for twice."""
        return hashlib.sha256(f"{CONTENT_VERSION}\n{self.as_json()}".encode()).hexdigest()


_HIDDEN = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKDOWN = re.compile(r"(\*\*|__|`+|^#{1,6}\s*|^>\s*|^[-*+]\s+)", re.MULTILINE)
_SPACE = re.compile(r"\s+")


def plain_text(text: str) -> str:
    """Strip HTML and Markdown: stored content is shown by clients as plain text."""
    text = _HIDDEN.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = _TAG.sub(" ", text)  # entities may have spelled out tags
    text = _LINK.sub(r"\1", text)
    text = _MARKDOWN.sub("", text)
    return _SPACE.sub(" ", text).strip()


def clean(content: GeneratedContent) -> GeneratedContent:
    """Markup stripped, keywords lower-cased and de-duplicated, then validated again."""
    keywords: list[str] = []
    for keyword in content.seo_keywords:
        text = plain_text(keyword).lower()
        if text and text not in keywords:
            keywords.append(text)
    try:
        return GeneratedContent(description=plain_text(content.description), seo_keywords=keywords)
    except ValidationError as exc:
        raise OutputRejected(f"content invalid once markup is removed: {exc.error_count()} errors") from exc
