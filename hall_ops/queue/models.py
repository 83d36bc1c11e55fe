"""Tables of the queue: services, windows, clerks, tickets and their history.

Ratings live in ``hall_ops.evaluation.models``.

Times are stored as naive UTC; the hall's local date (for daily numbering
and opening hours) is derived with the hall's time zone in ``hall_ops.clock``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from hall_ops.audit import chain
from hall_ops.audit.chain import ChainLink
from hall_ops.db import Base, make_append_only
from hall_ops.privacy import EncryptedString, blind_index

RESIDENT_ID_CONTEXT = "tickets.resident_id_number"


class Service(Base):
    """A queue service: what a citizen picks at the kiosk; one ticket letter."""

    __tablename__ = "services"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    letter: Mapped[str] = mapped_column(String(2), unique=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    zone_code: Mapped[str] = mapped_column(ForeignKey("zones.code"))
    board: Mapped[str | None] = mapped_column(String(32), nullable=True)
    mean_service_minutes: Mapped[float] = mapped_column(default=10.0)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Clerk(Base):
    """Who may staff a window, as the queue knows them: one row per staff member with the
    ``clerk`` role (kept by ``hall_ops.staff.accounts``), plus the demo roster of config.toml.
    Windows, tickets and cases point here; the PIN is checked against the staff table."""

    __tablename__ = "clerks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))


class Window(Base):
    """A service desk. ``state`` is closed, idle, calling, serving or paused."""

    __tablename__ = "windows"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    zone_code: Mapped[str] = mapped_column(ForeignKey("zones.code"))
    kind: Mapped[str] = mapped_column(String(16), default="general")
    state: Mapped[str] = mapped_column(String(16), default="closed")
    clerk_id: Mapped[str | None] = mapped_column(ForeignKey("clerks.id"), nullable=True)
    current_ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", use_alter=True), nullable=True
    )
    opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    """Closed for good in the admin page (``hall_ops.floor.admin``): no clerk logs in here,
    screens and planners leave it out; kept, since tickets and reports point at it."""

    assignments: Mapped[list[WindowService]] = relationship(
        cascade="all, delete-orphan", order_by="WindowService.service_code"
    )
    defaults: Mapped[list[WindowDefault]] = relationship(
        cascade="all, delete-orphan", order_by="WindowDefault.service_code"
    )

    @property
    def service_codes(self) -> list[str]:
        return [a.service_code for a in self.assignments]

    @property
    def default_codes(self) -> list[str]:
        return [d.service_code for d in self.defaults]


class WindowService(Base):
    """Which services a window calls from: the window workload assignment."""

    __tablename__ = "window_services"

    window_number: Mapped[int] = mapped_column(ForeignKey("windows.number"), primary_key=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"), primary_key=True)


class WindowDefault(Base):
    """The services a window is set up for (seeded from config.toml, then kept in the admin
    page): what its zone and kind may serve (``zones.skills``) and what it opens with. The
    assignment of the moment (``WindowService``) is the manager's and auto mode's."""

    __tablename__ = "window_default_services"

    window_number: Mapped[int] = mapped_column(ForeignKey("windows.number"), primary_key=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"), primary_key=True)


class DailyCounter(Base):
    """Last number issued per service and hall day; the source of A001, A002 …"""

    __tablename__ = "daily_counters"

    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Appointment(Base):
    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"))
    slot_start: Mapped[dt.datetime] = mapped_column(DateTime)
    slot_end: Mapped[dt.datetime] = mapped_column(DateTime)
    applicant_name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Ticket(Base):
    """A queue ticket. ``rank_at`` orders the queue (see ``hall_ops.queue``).

    A ticket taken by resident ID keeps the number encrypted (with a blind index), never
    plain. A remote ticket (taken on the phone) is ``remote`` until checked in at the hall by
    ``check_in_by``: only ``waiting`` tickets are counted or called, so it is neither before.
    """

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("day", "number", name="uq_ticket_day_number"),
        Index("ix_ticket_queue", "status", "service_code", "rank_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(8))
    day: Mapped[dt.date] = mapped_column(Date)
    seq: Mapped[int] = mapped_column(Integer)
    origin_service_code: Mapped[str] = mapped_column(ForeignKey("services.code"))
    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime)
    rank_at: Mapped[dt.datetime] = mapped_column(DateTime)
    called_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    window_number: Mapped[int | None] = mapped_column(
        ForeignKey("windows.number"), nullable=True
    )
    target_window_number: Mapped[int | None] = mapped_column(
        ForeignKey("windows.number"), nullable=True
    )
    clerk_id: Mapped[str | None] = mapped_column(ForeignKey("clerks.id"), nullable=True)
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    status_token: Mapped[str] = mapped_column(String(32), unique=True)
    priority_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """Why the ticket has its priority when the hall gave it (``age``: 绿色通道 by birth date)."""
    resident_id_number: Mapped[str | None] = mapped_column(
        EncryptedString(RESIDENT_ID_CONTEXT), nullable=True
    )
    resident_id_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    check_in_by: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    """A remote ticket lapses unless checked in at the hall by then."""

    @validates("resident_id_number")
    def _index_id(self, _key: str, value: str | None) -> str | None:
        self.resident_id_hash = blind_index(value, RESIDENT_ID_CONTEXT) if value else None
        return value


class TicketEvent(ChainLink, Base):
    """Append-only history: every transition with time, window and clerk.

    Calls and recalls are read back from here for screen snapshots, so a
    screen that reconnects (to any process) sees the same recent calls. Chained per ticket
    (``hall_ops.audit.chain``).
    """

    __tablename__ = "ticket_events"
    __table_args__ = (
        Index("ix_ticket_events_kind_id", "kind", "id"),
        Index("ix_ticket_events_chain", "ticket_id", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    window_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    clerk_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


make_append_only(TicketEvent.__table__)  # type: ignore[arg-type]
chain.register(TicketEvent, stream_by=("ticket_id",))


PAUSE_REASONS = ("break", "meeting", "system_fault")
"""Why a window pauses; the reports add up paused time per reason."""


class WindowPause(Base):
    """One pause of a window, with its reason: open while ``ended_at`` is empty."""

    __tablename__ = "window_pauses"
    __table_args__ = (Index("ix_window_pauses_window_started", "window_number", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    window_number: Mapped[int] = mapped_column(ForeignKey("windows.number"))
    clerk_id: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)


class TicketPhone(Base):
    """A mobile number left for silent calling (无声叫号): encrypted at rest, shown masked,
    deleted when the ticket is over (``hall_ops.queue.silent``)."""

    __tablename__ = "ticket_phones"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    phone: Mapped[str] = mapped_column(EncryptedString("ticket_phones.phone"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class TicketMessage(Base):
    """One SMS of silent calling: ``ahead`` (N people before the ticket) or ``called``. The
    unique key makes each at most once per ticket, however many processes record it;
    ``sent_at`` is set only when the gateway accepted it."""

    __tablename__ = "ticket_messages"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", name="uq_ticket_message_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    people_ahead: Mapped[int | None] = mapped_column(Integer, nullable=True)
    window_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending, sent, failed (tries used up) or dropped (the ticket was over first)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
