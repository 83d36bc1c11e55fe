"""The queue: taking tickets and everything a clerk does at a window.

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
from typing import Any

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from hall_ops.clock import hall_day, to_local
from hall_ops.config import PRIORITIES, HallConfig
from hall_ops.errors import Conflict, InvalidInput, NotFound, Unauthorized
from hall_ops.models import (
    Appointment,
    Clerk,
    DailyCounter,
    Service,
    Ticket,
    TicketEvent,
    Window,
    WindowService,
    Zone,
)
from hall_ops.pins import verify_pin
from zones import rules_for

ACTIVE = ("called", "serving")
"""States in which a ticket is at a window."""


# ---------------------------------------------------------------- views


def ticket_view(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "number": ticket.number,
        "service": ticket.service_code,
        "priority": ticket.priority,
        "status": ticket.status,
        "window": ticket.window_number,
        "target_window": ticket.target_window_number,
        "recalls": ticket.recalls,
        "taken_at": _iso(ticket.taken_at),
        "called_at": _iso(ticket.called_at),
        "token": ticket.status_token,
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.replace(tzinfo=dt.UTC).isoformat() if value else None


# ---------------------------------------------------------------- helpers


def _service(session: Session, code: str) -> Service:
    service = session.get(Service, code)
    if service is None:
        raise NotFound(f"unknown service {code!r}", code="unknown_service")
    return service


def _window(session: Session, number: int, *, lock: bool = False) -> Window:
    stmt = select(Window).where(Window.number == number)
    if lock:
        stmt = stmt.with_for_update()
    window = session.scalars(stmt).first()
    if window is None:
        raise NotFound(f"no window {number}", code="unknown_window")
    return window


def _record(
    session: Session,
    ticket: Ticket,
    kind: str,
    to_status: str,
    now: dt.datetime,
    *,
    window: int | None = None,
    clerk: str | None = None,
    **detail: Any,
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket.id,
        at=now,
        kind=kind,
        from_status=ticket.status if kind != "taken" else None,
        to_status=to_status,
        window_number=window,
        clerk_id=clerk,
        origin=session.info.get("origin"),
        detail=detail,
    )
    ticket.status = to_status
    session.add(event)
    session.flush()
    return event


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


def _staffed_window(session: Session, number: int, clerk_id: str) -> Window:
    window = _window(session, number, lock=True)
    if window.clerk_id != clerk_id:
        raise Unauthorized(
            f"clerk {clerk_id} is not logged in at window {number}", code="not_at_window"
        )
    return window


def _current_ticket(window: Window, session: Session, expected: str | None) -> Ticket:
    ticket = session.get(Ticket, window.current_ticket_id) if window.current_ticket_id else None
    if ticket is None or ticket.status not in ACTIVE:
        raise Conflict(f"window {window.number} has no ticket in hand", code="no_current_ticket")
    if expected is not None and expected != ticket.number:
        raise Conflict(
            f"ticket {expected} is not the one at window {window.number} ({ticket.number})",
            code="ticket_not_current",
        )
    return ticket


def _release(window: Window) -> None:
    window.current_ticket_id = None
    window.state = "idle"


# ---------------------------------------------------------------- citizens


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
    service = _service(session, service_code)
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
    _record(session, ticket, "taken", "waiting", now, priority=priority)
    return ticket


def cancel_ticket(session: Session, token: str, now: dt.datetime) -> Ticket:
    ticket = ticket_by_token(session, token)
    if ticket.status != "waiting":
        raise Conflict(f"ticket {ticket.number} is {ticket.status}", code="ticket_not_waiting")
    _record(session, ticket, "cancelled", "cancelled", now)
    return ticket


def ticket_by_token(session: Session, token: str) -> Ticket:
    ticket = session.scalars(select(Ticket).where(Ticket.status_token == token)).first()
    if ticket is None:
        raise NotFound("no such ticket", code="unknown_ticket")
    return ticket


# ---------------------------------------------------------------- appointments


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
    _service(session, service_code)
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


# ---------------------------------------------------------------- windows


def open_window(
    session: Session, number: int, clerk_id: str, pin: str, now: dt.datetime
) -> Window:
    """A clerk logs in at a window; one clerk per window, one window per clerk."""
    clerk = session.get(Clerk, clerk_id)
    if clerk is None or not verify_pin(pin, clerk.pin_hash):
        raise Unauthorized("unknown clerk or wrong PIN", code="bad_credentials")
    window = _window(session, number, lock=True)
    if window.clerk_id not in (None, clerk_id):
        raise Conflict(f"window {number} is staffed by another clerk", code="window_taken")
    elsewhere = session.scalars(
        select(Window.number).where(Window.clerk_id == clerk_id, Window.number != number)
    ).first()
    if elsewhere is not None:
        raise Conflict(
            f"clerk {clerk_id} is logged in at window {elsewhere}; log out there first",
            code="clerk_elsewhere",
        )
    if window.clerk_id is None:
        window.clerk_id = clerk_id
        window.state = "idle"
        window.opened_at = now
    return window


def close_window(session: Session, number: int, clerk_id: str) -> Window:
    window = _staffed_window(session, number, clerk_id)
    if window.current_ticket_id is not None:
        raise Conflict("finish or hand on the current ticket first", code="window_busy")
    window.clerk_id = None
    window.state = "closed"
    window.opened_at = None
    return window


def pause_window(session: Session, number: int, clerk_id: str, paused: bool) -> Window:
    window = _staffed_window(session, number, clerk_id)
    if paused and window.current_ticket_id is not None:
        raise Conflict("finish or hand on the current ticket first", code="window_busy")
    window.state = "paused" if paused else "idle"
    return window


def call_next(
    session: Session, hall: HallConfig, number: int, clerk_id: str, now: dt.datetime
) -> tuple[Ticket | None, TicketEvent | None]:
    """The clerk presses Call next.

    The window row is locked first, so a double press cannot take two
    tickets. The ticket row is then taken with ``FOR UPDATE SKIP LOCKED``:
    on PostgreSQL a second window calling at the same instant skips the row
    the first one holds instead of waiting for it or taking it too; on SQLite
    the whole write transaction is ``BEGIN IMMEDIATE``, so calls are
    serialised. Only tickets of the window's services and of today qualify,
    and a ticket transferred to a named window waits for that window alone.
    """
    window = _staffed_window(session, number, clerk_id)
    if window.state == "paused":
        raise Conflict(f"window {number} is paused", code="window_paused")
    if window.current_ticket_id is not None:
        raise Conflict(
            "finish, transfer or mark no-show the current ticket first", code="window_busy"
        )
    services = window.service_codes
    if not services:
        raise Conflict(f"window {number} serves no service", code="no_services")
    ticket = session.scalars(
        select(Ticket)
        .where(
            Ticket.status == "waiting",
            Ticket.day == hall_day(now, hall.timezone),
            Ticket.service_code.in_(services),
            or_(Ticket.target_window_number.is_(None), Ticket.target_window_number == number),
        )
        .order_by(Ticket.rank_at, Ticket.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if ticket is None:
        return None, None
    event = _record(session, ticket, "called", "called", now, window=number, clerk=clerk_id)
    ticket.called_at = now
    ticket.window_number = number
    ticket.clerk_id = clerk_id
    ticket.target_window_number = None
    ticket.recalls = 0
    window.current_ticket_id = ticket.id
    window.state = "calling"
    return ticket, event


def recall(
    session: Session, number: int, clerk_id: str, now: dt.datetime, expected: str | None = None
) -> tuple[Ticket, TicketEvent]:
    window = _staffed_window(session, number, clerk_id)
    ticket = _current_ticket(window, session, expected)
    if ticket.status != "called":
        raise Conflict(f"ticket {ticket.number} is already being served", code="not_called")
    ticket.recalls += 1
    event = _record(
        session, ticket, "recalled", "called", now, window=number, clerk=clerk_id,
        recall=ticket.recalls,
    )
    return ticket, event


def mark_no_show(
    session: Session,
    hall: HallConfig,
    number: int,
    clerk_id: str,
    now: dt.datetime,
    expected: str | None = None,
) -> Ticket:
    """Skip a called ticket whose holder did not come, after the configured recalls."""
    window = _staffed_window(session, number, clerk_id)
    ticket = _current_ticket(window, session, expected)
    if ticket.status != "called":
        raise Conflict(f"ticket {ticket.number} is being served", code="not_called")
    needed = hall.queue.no_show_after_recalls
    if ticket.recalls < needed:
        raise Conflict(
            f"recall {ticket.number} {needed - ticket.recalls} more time(s) before marking no-show",
            code="recall_first",
            recalls=ticket.recalls,
            needed=needed,
        )
    _record(session, ticket, "no_show", "no_show", now, window=number, clerk=clerk_id)
    ticket.finished_at = now
    _release(window)
    return ticket


def start_service(
    session: Session, number: int, clerk_id: str, now: dt.datetime, expected: str | None = None
) -> Ticket:
    window = _staffed_window(session, number, clerk_id)
    ticket = _current_ticket(window, session, expected)
    if ticket.status != "called":
        raise Conflict(f"ticket {ticket.number} is already being served", code="not_called")
    _record(session, ticket, "started", "serving", now, window=number, clerk=clerk_id)
    ticket.started_at = now
    window.state = "serving"
    return ticket


def finish(
    session: Session, number: int, clerk_id: str, now: dt.datetime, expected: str | None = None
) -> Ticket:
    window = _staffed_window(session, number, clerk_id)
    ticket = _current_ticket(window, session, expected)
    if ticket.status != "serving":
        raise Conflict(f"start serving {ticket.number} before finishing it", code="not_serving")
    _record(session, ticket, "finished", "done", now, window=number, clerk=clerk_id)
    ticket.finished_at = now
    _release(window)
    return ticket


def transfer(
    session: Session,
    number: int,
    clerk_id: str,
    now: dt.datetime,
    *,
    to_service: str | None = None,
    to_window: int | None = None,
    expected: str | None = None,
) -> Ticket:
    """Hand the ticket on to another service and/or a named window.

    It waits again with its original rank time, so it does not go to the
    back of the new queue.
    """
    if to_service is None and to_window is None:
        raise InvalidInput("name a service or a window to transfer to", code="no_target")
    window = _staffed_window(session, number, clerk_id)
    ticket = _current_ticket(window, session, expected)
    service = _service(session, to_service or ticket.service_code)
    if to_window is not None:
        if to_window == number:
            raise InvalidInput("cannot transfer a ticket to its own window", code="same_window")
        target = _window(session, to_window)
        if service.code not in target.service_codes:
            raise InvalidInput(
                f"window {to_window} does not serve {service.code!r}",
                code="window_does_not_serve",
            )
    elif service.code == ticket.service_code:
        raise InvalidInput("the ticket is already in that service", code="same_service")
    _record(
        session, ticket, "transferred", "waiting", now, window=number, clerk=clerk_id,
        from_service=ticket.service_code, to_service=service.code, to_window=to_window,
    )
    ticket.service_code = service.code
    ticket.target_window_number = to_window
    ticket.window_number = None
    ticket.called_at = None
    ticket.started_at = None
    ticket.recalls = 0
    _release(window)
    return ticket


# ---------------------------------------------------------------- reading the hall


def mean_service_minutes(session: Session, hall: HallConfig, service: Service) -> float:
    """Mean of the last N service times of this service, or the configured guess."""
    recent = session.execute(
        select(Ticket.started_at, Ticket.finished_at)
        .where(
            Ticket.service_code == service.code,
            Ticket.status == "done",
            Ticket.started_at.is_not(None),
        )
        .order_by(Ticket.finished_at.desc())
        .limit(hall.queue.service_time_sample)
    ).all()
    if not recent:
        return service.mean_service_minutes
    total = sum((done - started).total_seconds() for started, done in recent)
    return total / len(recent) / 60


def open_windows_by_service(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(WindowService.service_code, func.count())
        .join(Window, Window.number == WindowService.window_number)
        .where(Window.state != "closed")
        .group_by(WindowService.service_code)
    ).all()
    return {code: count for code, count in rows}


def waiting_by_service(session: Session, day: dt.date) -> dict[str, int]:
    rows = session.execute(
        select(Ticket.service_code, func.count())
        .where(Ticket.status == "waiting", Ticket.day == day)
        .group_by(Ticket.service_code)
    ).all()
    return {code: count for code, count in rows}


def estimate_wait_minutes(
    people_ahead: int, open_windows: int, mean_minutes: float
) -> float | None:
    """People ahead shared over the open windows, each taking the mean service time.

    ``None`` when no window serving it is open: there is no honest figure.
    """
    if open_windows <= 0:
        return None
    return round(people_ahead / open_windows * mean_minutes, 1)


def ticket_status(session: Session, hall: HallConfig, token: str) -> dict[str, Any]:
    """What the citizen's phone shows: place in line, estimate, and the window once called."""
    ticket = ticket_by_token(session, token)
    service = session.get(Service, ticket.service_code)
    assert service is not None
    view = ticket_view(ticket)
    view["service_name_zh"] = service.name_zh
    view["service_name_en"] = service.name_en
    if ticket.status == "waiting":
        ahead = session.scalar(
            select(func.count()).where(
                Ticket.status == "waiting",
                Ticket.day == ticket.day,
                Ticket.service_code == ticket.service_code,
                tuple_(Ticket.rank_at, Ticket.id) < tuple_(ticket.rank_at, ticket.id),
                or_(
                    Ticket.target_window_number.is_(None),
                    Ticket.target_window_number == ticket.target_window_number,
                ),
            )
        ) or 0
        open_windows = open_windows_by_service(session).get(ticket.service_code, 0)
        view["people_ahead"] = ahead
        view["estimated_wait_minutes"] = estimate_wait_minutes(
            ahead, open_windows, mean_service_minutes(session, hall, service)
        )
    else:
        view["people_ahead"] = 0
        view["estimated_wait_minutes"] = 0 if ticket.status in ACTIVE else None
    return view


def recent_calls(
    session: Session,
    limit: int,
    *,
    zone: str | None = None,
    window: int | None = None,
    day: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Latest calls and recalls, newest first, as screens show them."""
    stmt = (
        select(TicketEvent, Ticket.number, Ticket.service_code, Window.zone_code)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .join(Window, Window.number == TicketEvent.window_number)
        .where(TicketEvent.kind.in_(("called", "recalled")))
        .order_by(TicketEvent.id.desc())
        .limit(limit)
    )
    if zone is not None:
        stmt = stmt.where(Window.zone_code == zone)
    if window is not None:
        stmt = stmt.where(TicketEvent.window_number == window)
    if day is not None:
        stmt = stmt.where(Ticket.day == day)
    return [
        call_view(event, number, service_code, zone_code)
        for event, number, service_code, zone_code in session.execute(stmt).all()
    ]


def call_view(event: TicketEvent, number: str, service: str, zone: str) -> dict[str, Any]:
    """One call as every screen receives it; ``seq`` lets a screen drop what it already has."""
    return {
        "seq": event.id,
        "ticket": number,
        "window": event.window_number,
        "zone": zone,
        "service": service,
        "recall": event.kind == "recalled",
        "at": _iso(event.at),
    }


def queue_snapshot(session: Session, hall: HallConfig, now: dt.datetime) -> dict[str, Any]:
    """Waiting counts, estimates and window states: the manager overview and screen sidebars.

    Pushed after every change, so it is a handful of grouped queries, not one per row.
    """
    day = hall_day(now, hall.timezone)
    waiting = waiting_by_service(session, day)
    open_windows = open_windows_by_service(session)
    oldest = dict(
        session.execute(
            select(Ticket.service_code, func.min(Ticket.taken_at))
            .where(Ticket.status == "waiting", Ticket.day == day)
            .group_by(Ticket.service_code)
        ).all()
    )
    served = dict(
        session.execute(
            select(Ticket.window_number, func.count())
            .where(Ticket.status == "done", Ticket.day == day)
            .group_by(Ticket.window_number)
        ).all()
    )
    in_hand = dict(
        session.execute(
            select(Window.number, Ticket.number).join(Ticket, Ticket.id == Window.current_ticket_id)
        ).all()
    )
    services = []
    for service in session.scalars(select(Service).order_by(Service.position)):
        count = waiting.get(service.code, 0)
        mean = mean_service_minutes(session, hall, service)
        first_taken = oldest.get(service.code)
        services.append(
            {
                "code": service.code,
                "letter": service.letter,
                "name_zh": service.name_zh,
                "name_en": service.name_en,
                "zone": service.zone_code,
                "waiting": count,
                "open_windows": open_windows.get(service.code, 0),
                "mean_service_minutes": round(mean, 1),
                "estimated_wait_minutes": estimate_wait_minutes(
                    count, open_windows.get(service.code, 0), mean
                ),
                "longest_wait_minutes": round((now - first_taken).total_seconds() / 60, 1)
                if first_taken
                else 0,
            }
        )
    windows = [
        {
            "number": window.number,
            "zone": window.zone_code,
            "kind": window.kind,
            "state": window.state,
            "clerk": window.clerk_id,
            "services": window.service_codes,
            "ticket": in_hand.get(window.number),
            "served_today": served.get(window.number, 0),
        }
        for window in session.scalars(
            select(Window).order_by(Window.number).options(selectinload(Window.assignments))
        )
    ]
    return {"services": services, "windows": windows, "at": _iso(now)}


def hall_layout(session: Session) -> dict[str, Any]:
    zones = session.scalars(select(Zone).order_by(Zone.position)).all()
    services = session.scalars(select(Service).order_by(Service.position)).all()
    windows = session.scalars(select(Window).order_by(Window.number)).all()
    return {
        "zones": [
            {
                "code": z.code,
                "name_zh": z.name_zh,
                "name_en": z.name_en,
                "citizen_facing": rules_for(z.code).citizen_facing,
            }
            for z in zones
        ],
        "services": [
            {
                "code": s.code,
                "letter": s.letter,
                "name_zh": s.name_zh,
                "name_en": s.name_en,
                "zone": s.zone_code,
                "board": s.board,
            }
            for s in services
        ],
        "windows": [
            {"number": w.number, "zone": w.zone_code, "kind": w.kind, "services": w.service_codes}
            for w in windows
        ],
    }


def expire_stale_tickets(session: Session, hall: HallConfig, now: dt.datetime) -> int:
    """Cancel tickets still waiting from an earlier hall day: numbers restart daily."""
    today = hall_day(now, hall.timezone)
    stale = session.scalars(
        select(Ticket).where(Ticket.status == "waiting", Ticket.day < today).with_for_update()
    ).all()
    for ticket in stale:
        _record(session, ticket, "expired", "cancelled", now, reason="day_ended")
    return len(stale)
