"""Citizens: the kiosk, screens, the ticket page, ratings, appointments, service guides."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from hall_web.fields import Code, LocalDateTime, Phone, QueryInt, Text, coded
from hall_web.schemas.base import Answer, Query, Request
from hall_web.schemas.queue import Call, Priority, TicketStatus

MAX_CALLS = 100


class TakeTicket(Request):
    service: Code
    priority: Annotated[Priority, coded("invalid_priority", "unknown priority")] | None = None
    resident_id: Annotated[str, Field(pattern=r"^\s*[0-9]{17}[0-9Xx]\s*$"),
                           coded("invalid_resident_id", "18 characters: 17 digits and a digit or X")
                           ] | None = None
    """Typed, or by the kiosk's ID-card reader: checked, kept encrypted, elderly priority by age."""


class RemoteTicket(Request):
    """A ticket taken on the phone before arriving: it waits only once checked in at the hall."""

    service: Code


class RemoteCheckIn(Request):
    token: Annotated[Text, Field(max_length=200)]
    """The ticket's token, or its whole status link (``…/t/<token>``) as a QR scanner types it."""


class RejoinAtKiosk(Request):
    """A missed ticket's holder rejoins at the kiosk: the number and the ticket's own token
    (scanned from its QR code, or the status link), so nobody rejoins another's number."""

    number: Annotated[Text, Field(max_length=16)]
    token: Annotated[Text, Field(max_length=200)]
    """The token, or the whole status link (``…/t/<token>``) as a QR scanner types it."""


class DeliveryCheckIn(Request):
    case_number: Annotated[Text, Field(max_length=32)]
    phone_last4: Annotated[str, Field(pattern=r"^[0-9]{4}$"),
                           coded("invalid_phone", "the last four digits of the phone")]


class BookAppointment(Request):
    service: Code
    slot_start: LocalDateTime
    slot_minutes: Annotated[int, Field(strict=True, ge=5, le=240)] = 30
    name: Annotated[Text, Field(max_length=64)]
    phone: Phone | None = None


class CallsQuery(Query):
    zone: Code | None = None
    window: Annotated[QueryInt, Field(ge=1, le=9999)] | None = None
    limit: Annotated[QueryInt, Field(ge=1, le=MAX_CALLS)] | None = None


class ZoneInfo(Answer):
    code: str
    name_zh: str
    name_en: str
    citizen_facing: bool


class ServiceInfo(Answer):
    code: str
    letter: str
    name_zh: str
    name_en: str
    zone: str
    board: str | None


class WindowInfo(Answer):
    number: int
    zone: str
    kind: str
    services: list[str]


class HallLayout(Answer):
    name_zh: str
    name_en: str
    open: bool
    zones: list[ZoneInfo]
    services: list[ServiceInfo]
    windows: list[WindowInfo]


class PadTicket(Answer):
    number: str
    token: str


class RatingPad(Answer):
    """The service just finished at the pad's window, or None: nothing to rate."""

    ticket: PadTicket | None


class Appointment(Answer):
    code: str
    service: str
    slot_start: str
    slot_end: str
    """Hall-local times, ``2026-11-25T10:00:00+08:00``."""


class Calls(Answer):
    calls: list[Call]


class Department(Answer):
    code: str
    name_zh: str
    name_en: str | None = None
    """From the catalogue's optional ``department_en``; the Chinese name when it has none."""


class ItemSummary(Answer):
    code: str
    name_zh: str
    name_en: str
    board: str
    department: Department
    time_limit_days: int
    fee_yuan: str
    service: str


class ServiceItems(Answer):
    service: str
    items: list[ItemSummary]


class GuideMaterial(Answer):
    name_zh: str
    name_en: str
    key: bool
    copies: int
    e_licence: bool


class ItemGuide(ItemSummary):
    board_name_zh: str
    free: bool
    materials: list[GuideMaterial]
    paper_materials: int



class LeavePhone(Request):
    """Silent calling: the mobile number to text when the ticket is near and when called."""

    phone: Phone


class PhoneState(Answer):
    available: bool
    """False when the hall has no SMS gateway for queue messages: the option is not offered."""
    phone: str | None
    """Masked (138****5678); none left."""
    notify_ahead: int
    sent: list[str]
    """Messages the gateway accepted: ``ahead``, ``called``."""


class PrinterState(Answer):
    printer: str | None
    """The kiosk's ESC/POS printer; none: the kiosk prints through the browser."""
    paper: str | None
    """ok, low, out or offline (asked just now)."""


class PrintedTicket(TicketStatus):
    printed: bool
    """True when the kiosk's printer took the slip; false: no printer, or it failed."""
