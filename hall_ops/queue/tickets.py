"""Tickets: taking one (at the kiosk, or by appointment), cancelling, expiring.

Ordering rule (priority without starvation): every ticket gets a *rank time*,
its take time minus a head start that depends on its priority (config
``[queue] priority_head_start_minutes``, e.g. elderly 10 min, appointment
15 min). Windows call the waiting ticket with the earliest rank time. So a
priority ticket overtakes normal tickets taken less than its head start before
it, but never one that has already waited longer: no normal ticket waits more
than the largest head start because of priorities, however many arrive.
A transferred ticket keeps its rank time, so it keeps its place in the new
queue by its original take time.

Every function here runs inside the caller's write transaction and returns
plain dicts for the edges (API, Socket.IO) to send on after commit.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hall_ops.clock import hall_day, to_local
from hall_ops.config import PRIORITIES, HallConfig
from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.queue.models import (
    Appointment,
    DailyCounter,
    Ticket,
)
from hall_ops.queue.records import get_service, record_event
from zones import rules_for


def _next_seq(session: Session, service_code: str, day: dt.date) -> int:
    """Atomically bump the daily counter: an upsert, so 50 kiosks never share a number."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(DailyCounter)
        .values(service_code=service_code, day=day, last_number=1)
        .on_conflict_do_update(
            index_elements=[DailyCounter.service_code, DailyCounter.day],
            set_={"last_number": DailyCounter.last_number + 1},
        )
        .returning(DailyCounter.last_number)
    )
    return int(session.execute(stmt).scalar_one())

def take_ticket(
    session: Session,
    hall: HallConfig,
    service_code: str,
    now: dt.datetime,
    *,
    priority: str = "normal",
    ignore_hours: bool = False,
) -> Ticket:
    """Issue the next number of a service; see the module docstring for ranking."""
    service = get_service(session, service_code)
    if not rules_for(service.zone_code).citizen_facing:
        raise Conflict(f"service {service_code!r} takes no tickets", code="not_citizen_facing")
    if priority not in PRIORITIES:
        raise InvalidInput(
            f"priority must be one of {', '.join(PRIORITIES)}", code="invalid_priority"
        )
    if not ignore_hours and not hall.is_open(now):
        raise Conflict("the hall is closed", code="hall_closed")
    day = hall_day(now, hall.timezone)
    seq = _next_seq(session, service.code, day)
    head_start = hall.queue.priority_head_start_minutes.get(priority, 0)
    ticket = Ticket(
        number=f"{service.letter}{seq:03d}",
        day=day,
        seq=seq,
        origin_service_code=service.code,
        service_code=service.code,
        priority=priority,
        status="waiting",
        taken_at=now,
        rank_at=now - dt.timedelta(minutes=head_start),
        status_token=secrets.token_urlsafe(12),
    )
    session.add(ticket)
    session.flush()
    record_event(session, ticket, "taken", "waiting", now, priority=priority)
    return ticket

def cancel_ticket(session: Session, token: str, now: dt.datetime) -> Ticket:
    ticket = ticket_by_token(session, token)
    if ticket.status != "waiting":
        raise Conflict(f"ticket {ticket.number} is {ticket.status}", code="ticket_not_waiting")
    record_event(session, ticket, "cancelled", "cancelled", now)
    return ticket

def ticket_by_token(session: Session, token: str) -> Ticket:
    ticket = session.scalars(select(Ticket).where(Ticket.status_token == token)).first()
    if ticket is None:
        raise NotFound("no such ticket", code="unknown_ticket")
    return ticket

def create_appointment(
    session: Session,
    service_code: str,
    slot_start: dt.datetime,
    slot_minutes: int,
    applicant_name: str,
    phone: str | None,
    now: dt.datetime,
) -> Appointment:
    """Book a slot (times naive UTC). The returned code is what the citizen types at the kiosk."""
    get_service(session, service_code)
    if not applicant_name.strip():
        raise InvalidInput("applicant name is required", code="invalid_name")
    if not 5 <= slot_minutes <= 240:
        raise InvalidInput("slot length must be 5–240 minutes", code="invalid_slot")
    if slot_start < now:
        raise InvalidInput("the slot has already begun", code="slot_in_past")
    while True:
        code = f"{secrets.randbelow(10**6):06d}"
        if not session.scalars(select(Appointment.id).where(Appointment.code == code)).first():
            break
    appointment = Appointment(
        code=code,
        service_code=service_code,
        slot_start=slot_start,
        slot_end=slot_start + dt.timedelta(minutes=slot_minutes),
        applicant_name=applicant_name.strip(),
        phone=phone,
        created_at=now,
    )
    session.add(appointment)
    session.flush()
    return appointment

def check_in(
    session: Session, hall: HallConfig, code: str, now: dt.datetime, *, ignore_hours: bool = False
) -> Ticket:
    """Turn a booked code into an appointment-priority ticket, once, near its slot."""
    appointment = session.scalars(
        select(Appointment).where(Appointment.code == code).with_for_update()
    ).first()
    if appointment is None:
        raise NotFound(f"no appointment with code {code!r}", code="unknown_appointment")
    if appointment.ticket_id is not None:
        raise Conflict("this appointment has already been checked in", code="already_checked_in")
    early = appointment.slot_start - dt.timedelta(minutes=hall.queue.appointment_early_minutes)
    late = appointment.slot_end + dt.timedelta(minutes=hall.queue.appointment_late_minutes)
    if not early <= now <= late:
        local = to_local(appointment.slot_start, hall.timezone)
        raise Conflict(
            f"check-in for this appointment opens {hall.queue.appointment_early_minutes} minutes "
            f"before its slot ({local:%Y-%m-%d %H:%M}) and closes "
            f"{hall.queue.appointment_late_minutes} minutes after it",
            code="appointment_not_due",
        )
    ticket = take_ticket(
        session,
        hall,
        appointment.service_code,
        now,
        priority="appointment",
        ignore_hours=ignore_hours,
    )
    appointment.ticket_id = ticket.id
    return ticket

def expire_stale_tickets(session: Session, hall: HallConfig, now: dt.datetime) -> int:
    """Cancel tickets still waiting from an earlier hall day: numbers restart daily."""
    today = hall_day(now, hall.timezone)
    stale = session.scalars(
        select(Ticket).where(Ticket.status == "waiting", Ticket.day < today).with_for_update()
    ).all()
    for ticket in stale:
        record_event(session, ticket, "expired", "cancelled", now, reason="day_ended")
    return len(stale)
