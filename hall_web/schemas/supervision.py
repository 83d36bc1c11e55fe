"""Electronic supervision (cards, extensions) and the tamper-evident record's roots."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from hall_ops.cases.supervision import MAX_EXTENSION_DAYS
from hall_web.fields import Code, LongText, Text, Whole
from hall_web.schemas.base import Answer, Moment, Query, Request


class SupervisionQuery(Query):
    department: Code | None = None
    clerk: Annotated[Text, Field(max_length=32)] | None = None


class CardChange(Answer):
    at: Moment
    from_: Annotated[str, Field(alias="from")]
    to: str
    cause: str
    """``time``, ``extended`` or ``finished``."""
    by: str | None
    """Who cleared it (decided the item or granted the extension); none for ``time``."""


class ExtensionView(Answer):
    at: Moment
    days: int
    reason: str
    by: str


class Card(Answer):
    item_id: int
    case_number: str
    item: str
    name_zh: str
    name_en: str
    department: str
    department_name_zh: str
    clerk: str
    status: str
    card: str
    """As the deadline job last recorded it: green, yellow, red or cleared."""
    time_limit_days: int
    used_days: int
    deadline: str | None
    fraction_used: float
    paused: bool
    warning: bool
    overdue: bool
    catalogue_limit_days: int
    extended_days: int
    extensions: list[ExtensionView]
    history: list[CardChange]


class Counts(Answer):
    green: int
    yellow: int
    red: int


class Summary(Answer):
    departments: dict[str, Counts]
    clerks: dict[str, Counts]


class Supervision(Answer):
    at: Moment
    department: str | None
    clerk: str | None
    summary: Summary
    cards: list[Card]
    cleared: list[Card]


class ExtensionBody(Request):
    """The approver or manager granting it is the one logged in."""

    days: Annotated[Whole, Field(ge=1, le=MAX_EXTENSION_DAYS)]
    reason: Annotated[LongText, Field(min_length=1, max_length=500)]


class Extended(Answer):
    item_id: int
    extension: ExtensionView


class RootView(Answer):
    day: str
    computed_at: Moment
    previous: str
    root: str
    streams: int
    heads: list[list[str | int]]


class RootsExport(Answer):
    kind: str
    exported_at: Moment
    hash: str
    roots: list[RootView]
