"""The field types of the API's request models: what a value from the network may be.

Every text is NFC-normalised, bounded in length and free of control characters and lone
surrogates (PostgreSQL refuses NUL, UTF-8 cannot carry a surrogate); every integer is
bounded (no 2^63 reaches a database) and written in ASCII digits ("²" passes
``str.isdigit`` and then fails ``int``); dates stay inside years the clock arithmetic
can reach. Patterns say ``[0-9]``, never ``\\d``: both Python's and pydantic's regular
expressions let ``\\d`` match any script's digits.

A type may name the error code a refusal answers with (``coded``): the domain's codes that
clients and tests rely on (``invalid_phone``, ``invalid_priority`` …) stay the same whether
the edge or the domain refuses.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from hall_ops.cases.identity import validate_phone
from hall_ops.errors import InvalidInput

CODED: set[str] = set()
"""Error types raised by ``coded`` fields: they are answered as the error code itself."""

FIRST_YEAR, LAST_YEAR = 2000, 2100
"""Dates outside these years are typing slips; they also keep ±1 day and time-zone
arithmetic far from ``datetime``'s year 1 and 9999."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")


def coded(code: str, message: str) -> WrapValidator:
    """Any refusal of the wrapped type is answered with error ``code``."""
    CODED.add(code)

    def check(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except (ValidationError, ValueError) as exc:
            raise PydanticCustomError(code, message) from exc

    return WrapValidator(check)


def _clean(value: Any, pattern: re.Pattern[str]) -> Any:
    if not isinstance(value, str):
        return value
    if pattern.search(value):
        raise PydanticCustomError(
            "control_character", "control characters and unpaired surrogates are refused"
        )
    return unicodedata.normalize("NFC", value)


def _no_controls(value: Any) -> Any:
    return _clean(value, _CONTROL)


def _no_controls_but_lines(value: Any) -> Any:
    return _clean(value, _CONTROL_MULTILINE)


Text = Annotated[
    str, BeforeValidator(_no_controls), StringConstraints(min_length=1, max_length=200)
]
"""An everyday short text: a name, a case number, a guard (1–200 characters after NFC).
Narrow it where a field is shorter: ``Annotated[Text, Field(max_length=64)]``."""
Code = Annotated[
    str,
    BeforeValidator(_no_controls),
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$"),
]
"""A machine code: service, zone, department, clerk, item (ASCII letters, digits, ``_.-``)."""
LongText = Annotated[
    str, BeforeValidator(_no_controls_but_lines), StringConstraints(max_length=2000)
]
"""Free text from a person: a comment, a reason (line breaks allowed)."""

Whole = Annotated[int, Field(strict=True)]
"""A JSON integer: not a bool, not a string, not 2.0. Bound it where used:
``Annotated[Whole, Field(ge=1, le=5)]``."""


def _ascii_int(value: Any) -> Any:
    if isinstance(value, str):
        if not re.fullmatch(r"-?[0-9]{1,12}", value):
            raise PydanticCustomError("int_parsing", "must be a whole number in digits 0–9")
        return int(value)
    return value


QueryInt = Annotated[int, BeforeValidator(_ascii_int)]
"""A whole number in a query string, in ASCII digits; bound it where used."""

WindowNumber = Annotated[Whole, Field(ge=1, le=9999)]
RowId = Annotated[Whole, Field(ge=1, le=2**31 - 1)]


def _phone(value: Any) -> str:
    if not isinstance(value, str) or not value.isascii() or len(value) > 20:
        raise PydanticCustomError("invalid_phone", "an 11-digit mobile or a landline")
    try:
        return validate_phone(value)
    except InvalidInput as exc:
        raise PydanticCustomError("invalid_phone", exc.message) from exc


CODED.add("invalid_phone")
Phone = Annotated[
    str,
    PlainValidator(_phone),
    WithJsonSchema({
        "type": "string", "maxLength": 20, "pattern": r"^[0-9+ \-]+$",
        "description": "a mainland mobile (1[3-9] and 9 digits, +86/0086 allowed) "
                       "or a landline with its area code (0…); spaces and hyphens ignored",
        "examples": ["13800138000", "010-12345678"],
    }),
]


def _in_range(day: dt.date) -> dt.date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise PydanticCustomError("date_range", f"the year must be {FIRST_YEAR}–{LAST_YEAR}")
    return day


def _local_datetime(value: Any) -> dt.datetime:
    if not isinstance(value, str) or not re.fullmatch(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?", value
    ):
        raise PydanticCustomError("datetime_parsing", "must look like 2026-11-25T10:00")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise PydanticCustomError("datetime_parsing", "no such date or time") from exc
    _in_range(moment.date())
    return moment


LocalDateTime = Annotated[
    dt.datetime,
    PlainValidator(_local_datetime),
    WithJsonSchema({
        "type": "string",
        "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$",
        "description": f"the hall's local time, years {FIRST_YEAR}–{LAST_YEAR}",
        "examples": ["2026-11-25T10:00"],
    }),
]


def _date(value: Any) -> dt.date:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise PydanticCustomError("date_parsing", "must look like 2026-11-25")
    try:
        return _in_range(dt.date.fromisoformat(value))
    except ValueError as exc:
        raise PydanticCustomError("date_parsing", "no such date") from exc


Day = Annotated[
    dt.date,
    PlainValidator(_date),
    WithJsonSchema({
        "type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        "description": f"a date, years {FIRST_YEAR}–{LAST_YEAR}", "examples": ["2026-11-25"],
    }),
]
