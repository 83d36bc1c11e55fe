"""Reading the queue: what screens, the citizen's phone and the manager see.

Pushed after every change, so each view is a handful of grouped queries, not one per row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Integer, bindparam, func, or_, select, tuple_
from sqlalchemy.orm import Session, selectinload

from hall_ops.cases.identity import mask_id
from hall_ops.clock import hall_day, iso_utc
from hall_ops.config import HallConfig
from hall_ops.errors import NotFound
from hall_ops.queue.models import (
    Clerk,
    Service,
    Ticket,
    TicketEvent,
    Window,
    WindowPause,
    WindowService,
)
from hall_ops.queue.records import ACTIVE, call_view
from hall_ops.queue.tickets import ticket_by_token
from zones import rules_for
from zones.models import Zone


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
        "taken_at": iso_utc(ticket.taken_at),
        "called_at": iso_utc(ticket.called_at),
        "started_at": iso_utc(ticket.started_at),
        "token": ticket.status_token,
        "priority_reason": ticket.priority_reason,
        "resident_id": mask_id(ticket.resident_id_number) if ticket.resident_id_number else None,
        "check_in_by": iso_utc(ticket.check_in_by),
    }

# The statements a kiosk's ticket answer runs, built once: SQLAlchemy compiles them from
# its cache without rebuilding the clauses and their cache key on every ticket.
_LAST_SERVICES = (
    select(Ticket.started_at, Ticket.finished_at)
    .where(
        Ticket.service_code == bindparam("service"),
        Ticket.status == "done",
        Ticket.started_at.is_not(None),
        Ticket.finished_at.is_not(None),
    )
    .order_by(Ticket.finished_at.desc())
    .limit(bindparam("sample"))
)
_OPEN_WINDOWS = (
    select(WindowService.service_code, func.count())
    .join(Window, Window.number == WindowService.window_number)
    .where(Window.state != "closed")
    .group_by(WindowService.service_code)
)
_AHEAD = select(func.count()).where(
    Ticket.status == "waiting",
    Ticket.day == bindparam("day"),
    Ticket.service_code == bindparam("service"),
    tuple_(Ticket.rank_at, Ticket.id) < tuple_(bindparam("rank_at", type_=DateTime()),
                                               bindparam("id", type_=Integer())),
    # untargeted tickets, and those sent to the same window (a NULL target matches none)
    or_(Ticket.target_window_number.is_(None),
        Ticket.target_window_number == bindparam("target")),
)
"""Waiting tickets of a service called before the given one (rank time, then id)."""


def mean_service_minutes(
    session: Session, service: Service, sample: int, *, until: dt.datetime | None = None
) -> float:
    """Mean of the last ``sample`` service times of this service (finished by ``until``),
    never below 6 s, or the configured guess while none exist.

    One rule for the citizen's estimate, the screens and the workload planner.
    """
    stmt = _LAST_SERVICES if until is None else _LAST_SERVICES.where(Ticket.finished_at <= until)
    rows = session.execute(stmt, {"service": service.code, "sample": sample}).all()
    spans = [(done - started).total_seconds() for started, done in rows if started and done]
    if not spans:
        return service.mean_service_minutes
    return max(sum(spans) / len(spans) / 60, 0.1)


def open_windows_by_service(session: Session) -> dict[str, int]:
    return {code: count for code, count in session.execute(_OPEN_WINDOWS).all()}

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
    return status_of(session, hall, ticket_by_token(session, token))


def status_of(session: Session, hall: HallConfig, ticket: Ticket) -> dict[str, Any]:
    """:func:`ticket_status` of a ticket already at hand (no second look-up by its token)."""
    service = session.get(Service, ticket.service_code)
    assert service is not None
    view = ticket_view(ticket)
    view["service_name_zh"] = service.name_zh
    view["service_name_en"] = service.name_en
    if ticket.status == "waiting":
        ahead = session.scalar(_AHEAD, {
            "day": ticket.day, "service": ticket.service_code, "rank_at": ticket.rank_at,
            "id": ticket.id, "target": ticket.target_window_number,
        }) or 0
        if ticket.target_window_number is not None:
            # Transferred to a named window: only that window calls it, and only while open.
            target = session.get(Window, ticket.target_window_number)
            open_windows = int(target is not None and target.state != "closed")
        else:
            open_windows = open_windows_by_service(session).get(ticket.service_code, 0)
        view["people_ahead"] = ahead
        view["estimated_wait_minutes"] = estimate_wait_minutes(
            ahead, open_windows,
            mean_service_minutes(session, service, hall.queue.service_time_sample),
        )
    elif ticket.status == "remote":
        # Not in the queue yet: what it would find if checked in now.
        ahead = waiting_by_service(session, ticket.day).get(ticket.service_code, 0)
        view["people_ahead"] = ahead
        view["estimated_wait_minutes"] = estimate_wait_minutes(
            ahead, open_windows_by_service(session).get(ticket.service_code, 0),
            mean_service_minutes(session, service, hall.queue.service_time_sample),
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


def missed_numbers(
    session: Session,
    hall: HallConfig,
    now: dt.datetime,
    *,
    limit: int,
    zone: str | None = None,
    window: int | None = None,
    services: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Today's missed (过号) tickets not yet rejoined, latest first: screens list them so a
    returning citizen sees their number and where to rejoin."""
    if limit <= 0:
        return []
    stmt = (
        select(Ticket.number, Ticket.service_code, TicketEvent.window_number, Window.zone_code,
               TicketEvent.at)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .join(Window, Window.number == TicketEvent.window_number)
        .where(Ticket.status == "no_show", TicketEvent.kind == "no_show",
               Ticket.day == hall_day(now, hall.timezone))
        .order_by(TicketEvent.id.desc())
        .limit(limit)
    )
    if zone is not None:
        stmt = stmt.where(Window.zone_code == zone)
    if window is not None:
        stmt = stmt.where(TicketEvent.window_number == window)
    if services is not None:
        stmt = stmt.where(Ticket.service_code.in_(services))
    return [
        {"ticket": number, "service": service, "window": at_window, "zone": zone_code,
         "at": iso_utc(at)}
        for number, service, at_window, zone_code, at in session.execute(stmt).all()
    ]


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
        mean = mean_service_minutes(session, service, hall.queue.service_time_sample)
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
            select(Window).where(Window.retired_at.is_(None)).order_by(Window.number)
            .options(selectinload(Window.assignments))
        )
    ]
    return {"services": services, "windows": windows, "at": iso_utc(now)}


def public_snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The queue snapshot as anyone may see it (screens, ``/api/v1/queue``): without who
    staffs each window, since a staff login is half of what a window login needs."""
    return {**snapshot, "windows": [
        {key: value for key, value in w.items() if key != "clerk"} for w in snapshot["windows"]
    ]}

def hall_layout(session: Session) -> dict[str, Any]:
    zones = session.scalars(select(Zone).order_by(Zone.position)).all()
    services = session.scalars(select(Service).order_by(Service.position)).all()
    windows = session.scalars(
        select(Window).where(Window.retired_at.is_(None)).order_by(Window.number)
    ).all()
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


WAITING_LISTED = 50
"""Waiting numbers a console offers for a call out of order."""


def window_view(
    session: Session, hall: HallConfig, number: int, now: dt.datetime
) -> dict[str, Any]:
    """What the clerk console at window ``number`` shows: state, ticket in hand, what waits."""
    window = session.get(Window, number)
    if window is None:
        raise NotFound(f"no window {number}", code="unknown_window")
    clerk = session.get(Clerk, window.clerk_id) if window.clerk_id else None
    current = session.get(Ticket, window.current_ticket_id) if window.current_ticket_id else None
    day = hall_day(now, hall.timezone)
    waiting = waiting_by_service(session, day)
    upcoming = session.scalars(
        select(Ticket.number)
        .where(
            Ticket.status == "waiting",
            Ticket.day == day,
            Ticket.service_code.in_(window.service_codes),
            or_(Ticket.target_window_number.is_(None), Ticket.target_window_number == number),
        )
        .order_by(Ticket.rank_at, Ticket.id)
        .limit(WAITING_LISTED)
    ).all()
    pause = session.scalars(
        select(WindowPause).where(WindowPause.window_number == number,
                                  WindowPause.ended_at.is_(None))
    ).first() if window.state == "paused" else None
    return {
        "number": window.number,
        "zone": window.zone_code,
        "kind": window.kind,
        "state": window.state,
        "clerk": window.clerk_id,
        "clerk_name": clerk.name if clerk else None,
        "services": window.service_codes,
        "ticket": ticket_status(session, hall, current.status_token) if current else None,
        "waiting": {code: waiting.get(code, 0) for code in window.service_codes},
        "next": list(upcoming[:5]),
        "waiting_numbers": list(upcoming),
        "pause_reason": pause.reason if pause else None,
        "paused_at": iso_utc(pause.started_at) if pause else None,
        "recalls_needed": hall.queue.no_show_after_recalls,
        "missed": [m["ticket"] for m in missed_numbers(
            session, hall, now, limit=10, services=window.service_codes)],
    }
