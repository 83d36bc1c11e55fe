"""Admin: the hand-off outbox, staff accounts, devices and the security log."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hall_web.fields import Code, Text, WindowNumber, coded
from hall_web.schemas.base import Answer, JSONObject, Moment, Query, Request

MessageStatus = Literal["pending", "delivered", "dead"]


class OutboxQuery(Query):
    status: Annotated[MessageStatus, coded("invalid_status", "pending, delivered or dead")] \
        | None = None


class OutboxMessage(Answer):
    """A hand-off without its payload: that carries the applicant's full identity."""

    id: int
    idempotency_key: str
    case_number: str
    department: str
    items: list[str | None]
    status: MessageStatus
    attempts: int
    adapter: str | None
    last_error: str | None
    created_at: Moment | None
    next_attempt_at: Moment | None
    delivered_at: Moment | None


class Outbox(Answer):
    status: MessageStatus | None
    messages: list[OutboxMessage]
    counts: dict[MessageStatus, int]


# ---------------------------------------------------------------- staff

Login = Annotated[Text, Field(max_length=64)]
"""The domain checks the form (``hall_ops.staff.accounts``): 2–32 lower-case characters."""
Secret = Annotated[str, Field(min_length=1, max_length=200)]
"""Passwords and PINs are not cleaned: every character counts; the policy checks length."""
Role = Literal["clerk", "approver", "manager", "admin"]


class NewStaff(Request):
    login: Login
    name: Annotated[Text, Field(max_length=100)]
    password: Secret | None = None
    pin: Secret | None = None


class NewPassword(Request):
    password: Secret


class NewPin(Request):
    pin: Secret | None
    """``null`` removes the PIN."""


class RoleChange(Request):
    role: Role
    department: Code | None = None
    """Approvers are granted per department."""


class StaffWindows(Request):
    windows: Annotated[list[WindowNumber], Field(max_length=10_000)]


class Grant(Answer):
    role: Role
    hall: str
    department: str | None


class StaffWindow(Answer):
    hall: str
    window: int


class StaffEntry(Answer):
    """A staff member as the admin page lists them: never a hash."""

    login: str
    name: str
    enabled: bool
    has_password: bool
    has_pin: bool
    locked_until: Moment | None
    pin_locked_until: Moment | None
    last_login_at: Moment | None
    roles: list[Grant]
    windows: list[StaffWindow]


class StaffList(Answer):
    staff: list[StaffEntry]


# ---------------------------------------------------------------- devices

DeviceKind = Literal["screen", "kiosk", "pad"]


class NewDevice(Request):
    kind: DeviceKind
    name: Annotated[Text, Field(max_length=100)]
    scope: Annotated[Text, Field(max_length=64)]
    """``hall``, ``zone:<code>`` or ``window:<n>`` (the domain checks it against the kind)."""


class DeviceEntry(Answer):
    id: int
    kind: DeviceKind
    name: str
    scope: str
    issued_at: Moment
    issued_by: str | None
    revoked_at: Moment | None
    last_seen_at: Moment | None
    last_seen_from: str | None


class Devices(Answer):
    devices: list[DeviceEntry]


class IssuedDevice(Answer):
    id: int
    kind: DeviceKind
    name: str
    scope: str


class DeviceIssued(Answer):
    """The token is in ``link`` and the QR code only: it is not kept, and not shown again."""

    device: IssuedDevice
    link: str
    qr: str


class DeviceRevoked(Answer):
    id: int
    revoked_at: Moment | None


# ---------------------------------------------------------------- security log


class SecurityLogQuery(Query):
    kind: Annotated[str, Field(max_length=500)] | None = None
    """Comma-separated kinds, e.g. ``login_failed,locked_out``."""
    subject: Annotated[str, Field(max_length=200)] | None = None
    """A login, ``case:<number>``, ``device:<id>``."""


class SecurityEvent(Answer):
    id: int
    at: Moment
    kind: str
    actor: str | None
    subject: str | None
    origin: str | None
    detail: JSONObject


class SecurityLog(Answer):
    events: list[SecurityEvent]


# ---------------------------------------------------------------- the hall floor

Name = Annotated[Text, Field(max_length=64)]
Letter = Annotated[str, Field(pattern=r"^[A-Z]$")]
ZoneCode = Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")]
ServiceCode = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,32}$")]
Board = Literal["investment", "enterprise", "real_estate", "non_resident"]
WindowKind = Literal["intake", "delivery", "general", "approval", "self_service"]
ServiceMinutes = Annotated[float, Field(ge=0.5, le=240)]
ServiceCodes = Annotated[list[Code], Field(min_length=1, max_length=100)]


class NewZone(Request):
    code: ZoneCode
    name_zh: Name | None = None
    """A standard zone's glossary name if left out."""
    name_en: Name | None = None


class ZoneEdit(Request):
    name_zh: Name | None = None
    name_en: Name | None = None


class NewService(Request):
    code: ServiceCode
    letter: Letter
    name_zh: Name
    name_en: Name
    zone: Code
    board: Board | None = None
    mean_service_minutes: ServiceMinutes = 10.0


class ServiceEdit(Request):
    """Only the fields sent change; ``board: null`` takes the service off its board."""

    letter: Letter | None = None
    name_zh: Name | None = None
    name_en: Name | None = None
    zone: Code | None = None
    board: Board | None = None
    mean_service_minutes: ServiceMinutes | None = None


class NewWindow(Request):
    number: WindowNumber
    zone: Code
    kind: WindowKind
    services: ServiceCodes


class WindowEdit(Request):
    zone: Code | None = None
    kind: WindowKind | None = None
    services: ServiceCodes | None = None
    """The window's default services."""


class FloorZone(Answer):
    code: str
    name_zh: str
    name_en: str
    citizen_facing: bool
    window_kinds: list[str]


class FloorService(Answer):
    code: str
    letter: str
    name_zh: str
    name_en: str
    zone: str
    board: str | None
    mean_service_minutes: float
    catalogue_items: int


class FloorWindow(Answer):
    number: int
    zone: str
    kind: str
    services: list[str]
    """Default services (the admin's); ``current``: what it serves now (the manager's)."""
    current: list[str]
    state: str
    retired_at: Moment | None


class FloorBoard(Answer):
    code: str
    name_zh: str


class Floor(Answer):
    zones: list[FloorZone]
    services: list[FloorService]
    windows: list[FloorWindow]
    boards: list[FloorBoard]


class FloorChangesQuery(Query):
    subject: Annotated[str, Field(max_length=48)] | None = None
    """``zone:<code>``, ``service:<code>`` or ``window:<n>``."""


class FloorChangeEntry(Answer):
    id: int
    at: Moment
    actor: str
    origin: str | None
    kind: str
    subject: str
    before: JSONObject
    after: JSONObject


class FloorChanges(Answer):
    changes: list[FloorChangeEntry]
