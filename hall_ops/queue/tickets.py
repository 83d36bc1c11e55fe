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

By resident ID (typed, or an ID-card reader at the kiosk): the number is checked (GB 11643),
kept encrypted on the ticket, and a citizen aged ``[queue] elderly_age`` or more on the hall
day gets elderly priority (绿色通道) with the reason recorded.

A remote ticket (taken on the phone where ``[queue] remote_tickets``) has its number but is
``remote``, not ``waiting``: nothing counts or calls it until it is checked in at the hall,
where it is taken and ranked as of then (waits are hall waits); unchecked by ``check_in_by``
it lapses.

Every function here runs inside the caller's write transaction and returns
plain dicts for the edges (API, Socket.IO) to send on after commit.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hall_ops.cases.identity import validate_resident_id
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

COUNTER_LOCK = 7305515
"""PostgreSQL advisory lock class: kiosks issuing numbers of one service take turns in order."""


def _bump(insert: Any) -> Any:
    counters = DailyCounter.__table__  # a Core statement: no ORM bulk-insert machinery
    return (
        insert(counters)
        .values(service_code=bindparam("service"), day=bindparam("day"), last_number=1)
        .on_conflict_do_update(
            index_elements=[counters.c.service_code, counters.c.day],
            set_={"last_number": counters.c.last_number + 1},
        )
        .returning(counters.c.last_number)
    )


# Built once: SQLAlchemy then compiles each from its cache without rebuilding the clauses
# and their cache key on every ticket (a large share of a kiosk request's CPU).
_BUMP = {"postgresql": _bump(postgresql.insert), "sqlite": _bump(sqlite.insert)}
# Advisory locks are the database's, not the schema's: the key names the hall's schema, so
# the halls of a deployment sharing one database never wait for each other's kiosks.
_TAKE_TURN = select(func.pg_advisory_xact_lock(COUNTER_LOCK, func.hashtext(
    cast(func.current_schema(), Text) + "/" + bindparam("key", type_=Text))))


def _next_seq(session: Session, service_code: str, day: dt.date) -> int:
    """Atomically bump the daily counter: an upsert, so 50 kiosks never share a number.

    On PostgreSQL the kiosks of one service first queue on an advisory lock of the counter:
    its waiters are granted in arrival order, while writers waiting on the upsert's row lock
    all retry at once when the holder commits and the quickest wins (measured by
    tests/test_concurrency.py). SQLite writers already queue in order (``hall_ops.db``).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(_TAKE_TURN, {"key": f"{service_code}/{day.isoformat()}"})
    bumped = session.execute(_BUMP[dialect], {"service": service_code, "day": day})
    return int(bumped.scalar_one())

def take_ticket(
    session: Session,
    hall: HallConfig,
    service_code: str,
    now: dt.datetime,
    *,
    priority: str = "normal",
    ignore_hours: bool = False,
    resident_id: str | None = None,
    remote: bool = False,
) -> Ticket:
    """Issue the next number of a service; see the module docstring for ranking, the
    resident ID's elderly priority and remote tickets."""
    service = get_service(session, service_code)
    if not rules_for(service.zone_code).citizen_facing:
        raise Conflict(f"service {service_code!r} takes no tickets", code="not_citizen_facing")
    if priority not in PRIORITIES:
        raise InvalidInput(
            f"priority must be one of {', '.join(PRIORITIES)}", code="invalid_priority"
        )
    if not ignore_hours and not hall.is_open(now):
        raise Conflict("the hall is closed", code="hall_closed")
    if remote and not hall.queue.remote_tickets:
        raise Conflict("this hall takes no remote tickets", code="remote_tickets_off")
    day = hall_day(now, hall.timezone)
    reason = None
    if resident_id is not None:
        resident_id = validate_resident_id(resident_id, today=day)
        if priority == "normal" and age_on(resident_id, day) >= hall.queue.elderly_age:
            priority, reason = "elderly", "age"
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
        priority_reason=reason,
        resident_id_number=resident_id,
        check_in_by=now + dt.timedelta(minutes=hall.queue.remote_checkin_minutes)
        if remote else None,
    )
    session.add(ticket)
    session.flush()
    detail: dict[str, Any] = {"priority": priority}
    if reason:
        detail.update(priority_reason=reason, elderly_age=hall.queue.elderly_age)
    if resident_id:
        detail["by_resident_id"] = True
    if remote:
        detail["remote"] = True
    record_event(session, ticket, "taken", "remote" if remote else "waiting", now, **detail)
    return ticket


def age_on(resident_id: str, day: dt.date) -> int:
    """Whole years of age on ``day`` from the birth date in a (validated) resident ID."""
    birth = dt.date(int(resident_id[6:10]), int(resident_id[10:12]), int(resident_id[12:14]))
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def check_in_remote(
    session: Session, hall: HallConfig, token: str, now: dt.datetime
) -> Ticket:
    """A remote ticket arrives at the hall: it starts waiting now, ranked as if taken now."""
    ticket = session.scalars(
        select(Ticket).where(Ticket.status_token == token).with_for_update()
    ).first()
    if ticket is None:
        raise NotFound("no such ticket", code="unknown_ticket")
    if ticket.status != "remote":
        raise Conflict(f"ticket {ticket.number} is not a remote ticket awaiting check-in",
                       code="not_remote")
    if ticket.check_in_by is None or now > ticket.check_in_by:
        raise Conflict(f"remote ticket {ticket.number} has lapsed: take a new ticket",
                       code="remote_ticket_lapsed")
    # Waits (reports, the longest wait, the call's waited time) count in the hall from here;
    # when it was taken on the phone stays in its ``taken`` history row.
    head_start = hall.queue.priority_head_start_minutes.get(ticket.priority, 0)
    record_event(session, ticket, "checked_in", "waiting", now,
                 remote_taken_at=ticket.taken_at.isoformat())
    ticket.taken_at = now
    ticket.rank_at = now - dt.timedelta(minutes=head_start)
    return ticket


def lapse_remote_tickets(session: Session, now: dt.datetime) -> int:
    """Remote tickets not checked in by their time are cancelled (recorded as lapsed)."""
    lapsed = session.scalars(
        select(Ticket).where(Ticket.status == "remote", Ticket.check_in_by < now)
        .with_for_update()
    ).all()
    for ticket in lapsed:
        record_event(session, ticket, "lapsed", "cancelled", now, reason="not_checked_in")
    return len(lapsed)

def cancel_ticket(session: Session, token: str, now: dt.datetime) -> Ticket:
    ticket = ticket_by_token(session, token)
    if ticket.status not in ("waiting", "remote"):
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
        select(Ticket).where(Ticket.status.in_(("waiting", "remote")), Ticket.day < today)
        .with_for_update()
    ).all()
    for ticket in stale:
        record_event(session, ticket, "expired", "cancelled", now, reason="day_ended")
    return len(stale)
