"""Clerks: the window console, intake, cases and supplements."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hall_web.fields import Code, Phone, Text, WindowNumber, coded
from hall_web.schemas.base import Answer, Moment, Request
from hall_web.schemas.citizens import Department
from hall_web.schemas.queue import Call, Ticket, WindowView

MAX_LIST = 100
"""Items or materials in one request: a catalogue item has a handful, a case a few items."""

Guard = Annotated[Text, Field(max_length=16)]
"""The ticket number the clerk's page shows (``B001``): refused if the window moved on."""
Name = Annotated[Text, Field(max_length=200)]


class WindowLogin(Request):
    clerk: Annotated[Text, Field(max_length=64)]
    pin: Annotated[Text, Field(max_length=64)]


PauseReason = Annotated[Literal["break", "meeting", "system_fault"],
                        coded("pause_reason_required", "break, meeting or system_fault")]


class Pause(Request):
    paused: Annotated[bool, Field(strict=True)]
    reason: PauseReason | None = None
    """Required to pause; the reports add up paused time per reason."""


class CallChosen(Request):
    """Call a chosen waiting number out of order; the reason is kept in its history."""

    ticket: Guard
    reason: Annotated[Text, Field(max_length=200)]


class RejoinAtWindow(Request):
    """A missed ticket's holder came back to this window: it waits again by the hall's policy."""

    ticket: Guard


class HandOverBody(Request):
    """With a gap material outstanding, the hand-over needs ``confirm_gaps`` and a reason."""

    confirm_gaps: Annotated[bool, Field(strict=True)] | None = None
    reason: Annotated[Text, Field(max_length=300)] | None = None


class TicketGuard(Request):
    ticket: Guard | None = None


class Transfer(Request):
    service: Code | None = None
    window: WindowNumber | None = None
    ticket: Guard | None = None


class Applicant(Request):
    kind: Annotated[Literal["person", "organisation"],
                    coded("invalid_applicant", "person or organisation")]
    name: Annotated[Text, Field(max_length=100)]
    id_number: Annotated[Text, Field(max_length=32)]
    phone: Phone
    email: Annotated[Text, Field(max_length=254)] | None = None
    """For the result notice (checked by the domain, ``hall_ops.cases.intake``)."""


HallCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$"),
                     coded("unknown_hall", "a hall code of this deployment")]


class DeliveryChoice(Request):
    """Where the result goes: collected here, at another hall of the deployment (``hall``, one
    of the intake page's list; refused without a deployment), or by post (``address``,
    ``postcode``: personal data, stored encrypted). Checked by
    ``hall_ops.cases.destination.check_destination``."""

    mode: Annotated[Literal["hall", "other_hall", "post"],
                    coded("invalid_delivery", "hall, other_hall or post")]
    hall: HallCode | None = None
    address: Annotated[Text, Field(max_length=200)] | None = None
    postcode: Annotated[str, Field(pattern=r"^[0-9]{6}$"),
                        coded("invalid_postcode", "six digits")] | None = None


class ChangeDelivery(DeliveryChoice):
    """The citizen asks at a window to have the result elsewhere; the clerk is the session's."""

    reason: Annotated[Text, Field(max_length=300)] | None = None


class Mailing(Request):
    """By post: the result was mailed with this tracking number (S10 with its check digit,
    or a domestic waybill). With a gap material outstanding: ``confirm_gaps`` and a reason."""

    tracking_number: Annotated[Text, Field(max_length=40)]
    confirm_gaps: Annotated[bool, Field(strict=True)] | None = None
    reason: Annotated[Text, Field(max_length=300)] | None = None


class AttachedLicence(Request):
    """A licence of the hall's library attached instead of the paper material."""

    material: Name
    number: Annotated[Text, Field(max_length=64)]


class Intake(Request):
    applicant: Applicant
    items: Annotated[list[Code], Field(max_length=MAX_LIST)]
    received: Annotated[list[Name], Field(max_length=MAX_LIST)] = []
    e_licences: Annotated[list[Name], Field(max_length=MAX_LIST)] = []
    licences: Annotated[list[AttachedLicence], Field(max_length=MAX_LIST)] = []
    licence_consent: Annotated[bool, Field(strict=True)] = False
    """The applicant agreed that the attached licences are used (required with ``licences``)."""
    ticket: Guard | None = None
    delivery: DeliveryChoice | None = None
    """Where the result goes; none: collected at this hall."""


class Supplement(Request):
    material: Name
    e_licence: Annotated[bool, Field(strict=True)] | None = None
    licence: Annotated[Text, Field(max_length=64)] | None = None
    """A licence of the hall's library supplied instead of the paper (with consent)."""
    licence_consent: Annotated[bool, Field(strict=True)] = False
    ticket: Guard | None = None


class ClerkInfo(Answer):
    id: str
    name: str


class Clerks(Answer):
    clerks: list[ClerkInfo]


class CallNext(Answer):
    ticket: Ticket | None
    call: Call | None
    window: WindowView
    message: str | None


class HandOver(Answer):
    case_number: str
    window: WindowView


class IntakeAccepted(Answer):
    case_number: str
    slip_url: str
    case_url: str


class ApplicantView(Answer):
    kind: str
    name: str
    id_number: str
    phone: str


class ItemEvent(Answer):
    at: Moment
    from_: Annotated[str | None, Field(alias="from")]
    to: str
    actor: str | None
    reason: str | None


class CaseItem(Answer):
    code: str
    name_zh: str
    name_en: str
    department: Department
    status: str
    materials: list[str]
    time_limit_days: int
    used_days: int
    deadline: str | None
    fraction_used: float
    paused: bool
    warning: bool
    overdue: bool
    history: list[ItemEvent] = []


class DepartmentItems(Answer):
    code: str
    name_zh: str
    name_en: str
    items: list[str]


class Material(Answer):
    id: int
    name_zh: str
    name_en: str
    key: bool
    copies: int
    status: Literal["missing", "received"]
    source: str | None
    due_on: str | None
    items: list[str]
    licence: str | None = None
    """Number of the library's licence used instead of paper."""


class MissingMaterial(Material):
    overdue: bool


class RoutingSlip(Answer):
    case_number: str
    accepted_at: Moment
    accepted_on: str
    window: int
    clerk: str
    applicant: ApplicantView
    items: list[CaseItem]
    departments: list[DepartmentItems]
    materials_received: list[Material]
    materials_missing: list[MissingMaterial]
    windows_visited: int
    materials_handed_in: int
    materials_saved_by_sharing: int


class HallName(Answer):
    code: str
    name_zh: str
    name_en: str


class PostalAddress(Answer):
    address: str
    """Masked (province and city only) unless the caller may see it whole."""
    postcode: str


class ChoiceEvent(Answer):
    at: Moment
    mode: str
    hall: str | None
    actor: str
    reason: str | None


class DestinationView(Answer):
    """Where the result goes (``mode``) and where it went (``state``: not_ready, ready,
    sending (to the other hall), at_other_hall, mailed, handed_over)."""

    mode: Literal["hall", "other_hall", "post"]
    hall: HallName | None
    address: PostalAddress | None
    state: Literal["not_ready", "ready", "sending", "at_other_hall", "mailed", "handed_over"]
    tracking_number: str | None
    mailed_at: Moment | None
    handed_over_at: Moment | None
    handed_over_hall: HallName | None
    handed_over_window: int | None
    choices: list[ChoiceEvent]


class CaseView(RoutingSlip):
    """The slip plus history; the identity unmasked for the clerk who accepted it only."""

    ticket: str | None
    masked: bool
    slip_url: str
    delivery: DestinationView


class TicketIdentity(Answer):
    """The resident ID a ticket in hand was taken with (null if none), for the intake form."""

    ticket: str
    id_number: str | None
