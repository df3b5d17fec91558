"""ASCII slugs from titles and names."""

from __future__ import annotations

from slugify import slugify

from storefront.core.errors import InvalidInput


def slug_from(text: str, field: str, max_length: int = 200) -> str:
    slug = slugify(text, max_length=max_length, word_boundary=True)
    if not slug:
        # "★★★" has no ASCII to keep: ask for an explicit slug rather than invent one.
        raise InvalidInput("slug", f"cannot be derived from this {field}; give one explicitly")
    return slug
