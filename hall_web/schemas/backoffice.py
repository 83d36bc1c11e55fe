"""Back office: the approval console and the departments' signed callback."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from hall_web.fields import Code, LongText, Text
from hall_web.schemas.base import Answer, JSONObject, Moment, Open, Request

Reason = Annotated[LongText, Field(max_length=500)]


class ConsoleAction(Request):
    """The approver is the one logged in, never a body field."""

    reason: Reason | None = None
    confirm_gaps: Annotated[bool, Field(strict=True)] | None = None
    """Approve although a gap material is still outstanding (then ``reason`` is required)."""


class Callback(Request):
    """Read only once the signature checks out (``X-Hall-Signature`` over ``timestamp.body``)."""

    department: Code
    case_number: Annotated[Text, Field(max_length=32)]
    item: Code
    status: Code
    actor: Annotated[Text, Field(max_length=64)] | None = None
    reason: Reason | None = None


class ConsoleMaterial(Open):
    name_zh: str
    status: str | None = None
    source: str | None = None
    due_on: str | None = None


class ConsoleCaseView(Answer):
    """A console case; its applicant masked in lists and answers to actions, unmasked (and
    logged) when one approver opens it (``GET /api/v1/backoffice/cases/<id>``)."""

    id: int
    case_number: str
    department: str
    status: str
    claimed_by: str | None
    reason: str | None
    items: list[JSONObject]
    materials: list[ConsoleMaterial]
    applicant: JSONObject
    received_at: Moment | None
    claimed_at: Moment | None
    decided_at: Moment | None


class ConsoleQueue(Answer):
    department: str
    cases: list[ConsoleCaseView]


class CallbackAnswer(Answer):
    case_number: str
    item: str
    status: str
    unchanged: bool
