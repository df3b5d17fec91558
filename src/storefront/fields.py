"""Input types shared by the settings and the domains: ISO codes and single-line text.

A leaf module beside ``config.py`` (which validates ``CURRENCY`` with it), so both the
settings and every domain can use it without the settings importing ``core``.

Countries (ISO 3166-1 alpha-2) and currencies (ISO 4217) are validated against
pycountry's maintained tables rather than a hand-written list,
so a new or renamed country is one dependency update away (docs/decisions.md).
Upper case is the canonical form everywhere: ``"de"`` is accepted and stored as ``"DE"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import pycountry
from pydantic import BeforeValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema


def _ranges(codes: Iterable[int]) -> str:
    """Character codes (ascending) as a regular expression class's body: ``\\x00-\\x08\\x0b``..."""
    runs: list[list[int]] = []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])

    def char(code: int) -> str:
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return "".join(char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in runs)


_CONTROLS = (*range(32), 127)
# The white space stripped from both ends of text fields: what str.strip() removes (Unicode's
# White_Space), less \x1c-\x1f, which are refused as controls here. The same set goes into
# the JSON schema's patterns, so the schema and the server agree exactly.
WHITE_SPACE = "".join(char for char in map(chr, range(0x3001)) if char.isspace() and not 0x1C <= ord(char) <= 0x1F)
_WHITE_SPACE_CLASS = _ranges(map(ord, WHITE_SPACE))


def country_code(value: object) -> str:
    """The canonical alpha-2 code for ``value``; ValueError when it is not a country's."""
    if not isinstance(value, str):
        raise ValueError("must be a two-letter country code such as DE")
    code = value.strip(WHITE_SPACE).upper()
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


def _either_case(letters: Iterable[str]) -> str:
    return "".join(f"{letter}{letter.lower()}" for letter in sorted(letters))


def _country_pattern() -> str:
    """Every assigned alpha-2 code, in either case, as one regular expression: the schema
    then names exactly the codes the server accepts (``[Dd][EeJjKkMmOoZz]``...)."""
    second: dict[str, set[str]] = {}
    for country in pycountry.countries:
        second.setdefault(country.alpha_2[0], set()).add(country.alpha_2[1])
    codes = "|".join(f"[{_either_case(first)}][{_either_case(rest)}]" for first, rest in sorted(second.items()))
    ends = f"[{_WHITE_SPACE_CLASS}]*"
    return f"^{ends}(?:{codes}){ends}$"


CountryCode = Annotated[
    str,
    BeforeValidator(country_code),
    Field(
        description="ISO 3166-1 alpha-2, e.g. DE (case-insensitive; answered upper case).",
        examples=["DE"],
        json_schema_extra={"pattern": _country_pattern()},
    ),
]


def _iso_date_text(value: object) -> object:
    # pydantic's date also takes 0, "0" or "1700000000" (Unix time): a client sending those
    # has a bug, and the schema says format: date, so only YYYY-MM-DD is a date here.
    if isinstance(value, date) and not isinstance(value, datetime):  # already one (MCP, the CLI)
        return value
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]


@dataclass(frozen=True)
class Text:
    """A text field's whole rule, checked by the server and written into the JSON schema.

    Lengths count the text as sent (so the schema's ``maxLength`` holds); white space is
    then stripped from both ends (``strip``), and the stripped text must keep ``min_length``
    characters: a name of only spaces is refused, and the schema's pattern says so.
    Control characters are refused except the ``allowed`` ones (NUL breaks PostgreSQL
    text; line breaks and other controls break labels and CSVs). ``shape``, a regular
    expression, is a stricter rule for the stripped text (a phone number, say).
    """

    max_length: int
    min_length: int = 0
    allowed: str = ""
    strip: bool = True
    shape: str | None = None
    shape_message: str = ""

    @property
    def _message(self) -> str:
        if self.allowed:
            return "must not contain control characters other than line breaks and tabs"
        return "must not contain control characters (NUL, line breaks, tabs)"

    def _validate(self, value: str) -> str:
        if len(value) > self.max_length:
            raise PydanticCustomError(
                "string_too_long",
                "String should have at most {max_length} characters",
                {"max_length": self.max_length},
            )
        if self.strip:
            value = value.strip(WHITE_SPACE)
        if len(value) < self.min_length:
            raise PydanticCustomError(
                "string_too_short",
                "String should have at least {min_length} character" + ("s" if self.min_length > 1 else ""),
                {"min_length": self.min_length},
            )
        if any((ord(char) in _CONTROLS) and char not in self.allowed for char in value):
            raise ValueError(self._message)
        if self.shape is not None and value and not re.fullmatch(self.shape, value):
            raise ValueError(self.shape_message)
        return value

    def pattern(self) -> str:
        """The rule as an ECMA-262 regular expression (the JSON schema's ``pattern``)."""
        refused = _ranges(code for code in _CONTROLS if chr(code) not in self.allowed)
        if self.shape is not None:
            body = f"(?:{self.shape})" + ("" if self.min_length else "?")
        elif self.min_length and self.strip:
            # At least one character that is neither refused nor stripped.
            body = f"[^{refused}]*[^{refused}{_WHITE_SPACE_CLASS}][^{refused}]*"
        elif self.min_length:
            body = f"[^{refused}]+"
        else:
            body = f"[^{refused}]*"
        ends = f"[{_WHITE_SPACE_CLASS}]*" if self.strip else ""
        return f"^{ends}{body}{ends}$"

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._validate, core_schema.str_schema())

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(maxLength=self.max_length, pattern=self.pattern())
        if self.min_length:
            json_schema["minLength"] = self.min_length
        return json_schema


def one_line(max_length: int, *, min_length: int = 1) -> Text:
    """Names, titles, keywords: one line, stripped, not blank unless ``min_length=0``."""
    return Text(max_length, min_length=min_length)


def free_text(max_length: int, *, min_length: int = 0, strip: bool = True) -> Text:
    """Descriptions, reasons, search queries: line breaks and tabs allowed, no other controls."""
    return Text(max_length, min_length=min_length, allowed="\n\r\t", strip=strip)


def _not_boolean(value: object) -> object:
    # JSON true/false are not numbers; pydantic's lax int would read them as 1 and 0.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


# Use on every integer of a request body: Annotated[int, Field(ge=1), NOT_BOOLEAN].
NOT_BOOLEAN = BeforeValidator(_not_boolean)


@dataclass(frozen=True)
class DecimalInput:
    """A decimal sent as a JSON number or a string (the contract: money and rates accept
    both), with its whole rule in the JSON schema: the string's exact shape, and the
    number's range and step (``multipleOf``), so generated clients and fuzzers know it."""

    whole_digits: int
    places: int
    below: Decimal | None = None  # exclusive upper bound (a tax rate is below 1)
    positive: bool = False  # above 0 (a refund's amount), else 0 or more

    @property
    def pattern(self) -> str:
        """Plain decimal text without leading zeros: "19.90", "0.5", "7"."""
        fraction = f"(\\.[0-9]{{1,{self.places}}})?"
        whole = "0" if self.below == 1 else f"(0|[1-9][0-9]{{0,{self.whole_digits - 1}}})"
        if not self.positive:
            return f"^{whole}{fraction}$"
        # Above zero: a non-zero whole part, or 0 and a fraction with a non-zero digit.
        tails = "|".join("0" * zeros + f"[1-9][0-9]{{0,{self.places - 1 - zeros}}}" for zeros in range(self.places))
        return f"^([1-9][0-9]{{0,{self.whole_digits - 1}}}{fraction}|0\\.({tails}))$"

    def _check(self, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("must be a decimal number or string, not true or false")
        if isinstance(value, str) and not re.fullmatch(self.pattern, value):
            example = "0." + "1" * self.places if self.below is not None else "19." + "9" * self.places
            raise ValueError(f"must be a decimal string such as {example}, at most {self.places} decimal places")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        step = Decimal(1).scaleb(-self.places)
        number: dict[str, Any] = {"type": "number", "multipleOf": float(step)}
        number["exclusiveMinimum" if self.positive else "minimum"] = 0
        if self.below is not None:
            number["exclusiveMaximum"] = float(self.below)
        else:
            number["maximum"] = float(Decimal(10) ** self.whole_digits - step)
        return {"anyOf": [number, {"type": "string", "pattern": self.pattern}]}
