"""Input types shared by the settings and the domains: ISO codes and single-line text.

A leaf module beside ``config.py`` (which validates ``CURRENCY`` with it), so both the
settings and every domain can use it without the settings importing ``core``.

Countries (ISO 3166-1 alpha-2) and currencies (ISO 4217) are validated against
pycountry's maintained tables rather than a hand-written list,
so a new or renamed country is one dependency update away (docs/decisions.md).
Upper case is the canonical form everywhere: ``"de"`` is accepted and stored as ``"DE"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import pycountry
from pydantic import BeforeValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema


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


@dataclass(frozen=True)
class _NoControls:
    """Refuse control characters except ``allowed``, with a readable message, and say so in
    the JSON schema (a pattern), so that clients generated from it know the rule too."""

    allowed: str
    message: str
    # The controls that StringConstraints(strip_whitespace=True) removes at either end before
    # this runs (pydantic-core trims Unicode white space: not \\x1c-\\x1f, unlike str.strip()).
    _STRIPPED = "[\\t\\n\\x0b\\x0c\\r ]*"

    def _check(self, value: str) -> str:
        if any(_is_control(char) and char not in self.allowed for char in value):
            raise ValueError(self.message)
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        refused = "".join(f"\\x{code:02x}" for code in (*range(32), 127) if chr(code) not in self.allowed)
        json_schema["pattern"] = f"^{self._STRIPPED}[^{refused}]*{self._STRIPPED}$"
        return json_schema


# Single-line text (names, titles): use after the length rules, e.g.
# Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE].
# NUL breaks PostgreSQL text; line breaks and other controls break labels and CSVs.
ONE_LINE = _NoControls("", "must not contain control characters (NUL, line breaks, tabs)")
# Free text (descriptions, reasons, search queries): line breaks and tabs allowed; NUL (which
# PostgreSQL refuses, so SQLite and PostgreSQL would disagree) and the other controls never.
FREE_TEXT = _NoControls("\n\r\t", "must not contain control characters other than line breaks and tabs")
