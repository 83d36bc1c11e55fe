"""Self-service application forms: their description, drafts, pulling and accepting them,
and the archive's register.

A form's fields differ per item and are described by the catalogue, so the body models
here bound the shape (items, sections, values) and the domain validates every value
against the item's run-time model (``hall_ops.forms.spec``), answering ``invalid_form``
with one entry per refused field.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, TypeAdapter, WithJsonSchema
from pydantic_core import PydanticCustomError

from hall_web.fields import Code, Text
from hall_web.schemas.base import Answer, Moment, Query, Request
from hall_web.schemas.citizens import ItemSummary
from hall_web.schemas.clerks import MAX_LIST, AttachedLicence, DeliveryChoice, Guard, Name

FieldName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


def _value(value: Any) -> Any:
    """A typed value: text (as the text fields take it, up to 500 characters), a finite
    number, or empty. What it must be for its field the domain decides."""
    if value is None or isinstance(value, int | float) and not isinstance(value, bool) and (
            math.isfinite(value)):
        return value
    if isinstance(value, str):
        return TextAdapter.validate_python(value) if value else value
    raise PydanticCustomError("invalid_field", "text, a number or null")


TextAdapter = TypeAdapter(Annotated[Text, Field(max_length=500)])
Value = Annotated[Any, BeforeValidator(_value), WithJsonSchema(
    {"anyOf": [{"type": "string", "maxLength": 500}, {"type": "number"}, {"type": "null"}]})]
Section = Annotated[dict[FieldName, Value], Field(max_length=60)]


class FormChoice(Answer):
    code: str
    label_zh: str
    label_en: str


class FormField(Answer):
    name: str
    type: str
    required: bool
    label_zh: str
    label_en: str
    help_zh: str
    help_en: str
    min_length: int | None
    max_length: int | None
    pattern: str | None
    minimum: str | None
    maximum: str | None
    choices: list[FormChoice]


class FormDescription(Answer):
    item: ItemSummary
    applicant: list[FormField]
    fields: list[FormField]


class FormBody(Request):
    """A filled form: the items applied for, the applicant section, each item's fields."""

    items: Annotated[list[Code], Field(min_length=1, max_length=10)]
    applicant: Section
    fields: Annotated[dict[Code, Section], Field(max_length=10)] = {}


class FormChecked(Answer):
    ok: bool


class Draft(Answer):
    id: int
    ticket: str | None
    items: list[str]
    applicant: dict[str, Any]
    fields: dict[str, dict[str, Any]]
    source: str
    saved_at: Moment
    expires_at: Moment


class DraftDeleted(Answer):
    deleted: bool


class DraftQuery(Query):
    ref: Annotated[Text, Field(max_length=24)] | None = None
    """A ticket number of today or a case number; default: the ticket in hand."""


class Drafts(Answer):
    ref: str
    drafts: list[Draft]


class AcceptDraft(Request):
    form: FormBody
    """The draft as the clerk checked it (corrections allowed, each one recorded)."""
    received: Annotated[list[Name], Field(max_length=MAX_LIST)] = []
    e_licences: Annotated[list[Name], Field(max_length=MAX_LIST)] = []
    licences: Annotated[list[AttachedLicence], Field(max_length=MAX_LIST)] = []
    licence_consent: Annotated[bool, Field(strict=True)] = False
    """The applicant agreed that the attached licences are used (required with ``licences``)."""
    ticket: Guard | None = None
    delivery: DeliveryChoice | None = None
    """Where the result goes; none: collected at this hall."""


class DraftAccepted(Answer):
    case_number: str
    slip_url: str
    case_url: str
    corrected: list[str]
