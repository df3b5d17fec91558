"""Input types shared by the settings and the domains: ISO codes and single-line text.

A leaf module beside ``config.py`` (which validates ``CURRENCY`` with it), so both the
settings and every domain can use it without the settings importing ``core``.

Countries (ISO 3166-1 alpha-2) and currencies (ISO 4217) are validated against
pycountry's maintained tables rather than a hand-written list,
so a new or renamed country is one dependency update away (docs/decisions.md).
Upper case is the canonical form everywhere: ``"de"`` is accepted and stored as ``"DE"``.
"""

from __future__ import annotations

from typing import Annotated

import pycountry
from pydantic import AfterValidator, BeforeValidator, Field


def country_code(value: object) -> str:
    """The canonical alpha-2 code for ``value``; ValueError when it is not a country's."""
    if not isinstance(value, str):
        raise ValueError("must be a two-letter country code such as DE")
    code = value.strip().upper()
    # pycountry's lookup also matches other fields; only a two-letter code is a code here.
    if len(code) != 2 or not code.isascii() or not code.isalpha() or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code")
    return code


def currency_code(value: str) -> str:
    """The canonical ISO 4217 code for ``value``; ValueError when it is not a currency's."""
    code = value.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha() or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"'{value}' is not an ISO 4217 currency code")
    return code


CountryCode = Annotated[
    str,
    BeforeValidator(country_code),
    Field(description="ISO 3166-1 alpha-2, e.g. DE (case-insensitive; answered upper case).", examples=["DE"]),
]


def _is_control(char: str) -> bool:
    return ord(char) < 32 or ord(char) == 127


def _no_control_characters(value: str) -> str:
    # NUL breaks PostgreSQL text; line breaks and other controls break labels and CSVs.
    if any(_is_control(char) for char in value):
        raise ValueError("must not contain control characters (NUL, line breaks, tabs)")
    return value


def _only_layout_controls(value: str) -> str:
    # Free text may have line breaks and tabs; NUL (which PostgreSQL refuses, so SQLite
    # and PostgreSQL would disagree) and the other controls are never meant.
    if any(_is_control(char) and char not in "\n\r\t" for char in value):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return value


# Single-line text (names, titles): use after the length rules, e.g.
# Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE].
ONE_LINE = AfterValidator(_no_control_characters)
# Free text (descriptions, reasons, search queries): line breaks and tabs allowed.
FREE_TEXT = AfterValidator(_only_layout_controls)
