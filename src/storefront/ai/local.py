"""The offline generator: no network, no cost, deterministic.

It says only what the product's own data says, so it never invents a feature.
"""

from __future__ import annotations

import re

from storefront.ai.content import MAX_DESCRIPTION, MAX_KEYWORD, MAX_KEYWORDS, GeneratedContent, ProductFacts, plain_text

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_STOPWORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "by", "for", "from", "in", "into", "is", "of", "on", "or", "the"),
        *("to", "with", "without", "your", "our", "this", "that"),
    }
)


def _words(text: str) -> list[str]:
    return [word for word in _WORD.findall(text.lower()) if len(word) > 2 and word not in _STOPWORDS]


def _keywords(facts: ProductFacts) -> list[str]:
    title, category = plain_text(facts.title).lower(), plain_text(facts.category).lower()
    title_words = _words(title)
    candidates = [title, category]
    candidates += [f"{word} {category}" for word in title_words if word not in category]
    candidates += title_words
    candidates += [f"buy {title}", f"{category} online", f"{title} price", f"{category} shop", f"new {category}"]
    keywords: list[str] = []
    for candidate in candidates:
        keyword = candidate.strip()[:MAX_KEYWORD].strip()
        if keyword and keyword not in keywords:
            keywords.append(keyword)
    return keywords[:MAX_KEYWORDS]


def _description(facts: ProductFacts) -> str:
    title, category = plain_text(facts.title), plain_text(facts.category)
    text = f"{title}, from our {category} range, priced at {facts.price}."
    existing = plain_text(facts.existing_description)
    if existing:
        text = f"{text} {existing}"
    return text[:MAX_DESCRIPTION].rstrip()


def generate_offline(facts: ProductFacts) -> GeneratedContent:
    return GeneratedContent(description=_description(facts), seo_keywords=_keywords(facts))
