"""What a clerk does at a window: log in, pause, call next, recall, skip, serve, finish,
transfer. Each runs inside the caller's write transaction; the window row is locked first,
so two presses (or two processes) never act on one window at once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hall_ops import events
from hall_ops.clock import hall_day
from hall_ops.config import HallConfig
from hall_ops.errors import Conflict, InvalidInput, Unauthorized
from hall_ops.events import QueueChanged, WindowChanged
from hall_ops.queue.models import (
    Clerk,
    Ticket,
    TicketEvent,
    Window,
)
from hall_ops.queue.records import ACTIVE, get_service, get_window, record_event


def _window_changed(session: Session, number: int) -> None:
    events.record(session, WindowChanged(number))
    events.record(session, QueueChanged())


def _staffed_window(session: Session, number: int, clerk_id: str) -> Window:
    window = get_window(session, number, lock=True)
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

def open_window(session: Session, number: int, clerk_id: str, now: dt.datetime) -> Window:
    """A clerk takes a window; one clerk per window, one window per clerk.

    Who the clerk is was settled before (``hall_ops.staff.accounts.authenticate_pin``).
    """
    if session.get(Clerk, clerk_id) is None:
        raise Unauthorized(f"{clerk_id!r} is not a clerk of this hall", code="not_clerk")
    window = get_window(session, number, lock=True)
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
        _window_changed(session, number)
    return window

def close_window(session: Session, number: int, clerk_id: str) -> Window:
    window = _staffed_window(session, number, clerk_id)
    if window.current_ticket_id is not None:
        raise Conflict("finish or hand on the current ticket first", code="window_busy")
    window.clerk_id = None
    window.state = "closed"
    window.opened_at = None
    _window_changed(session, number)
    return window

def pause_window(session: Session, number: int, clerk_id: str, paused: bool) -> Window:
    window = _staffed_window(session, number, clerk_id)
    if paused and window.current_ticket_id is not None:
        raise Conflict("finish or hand on the current ticket first", code="window_busy")
    window.state = "paused" if paused else "idle"
    _window_changed(session, number)
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
    event = record_event(session, ticket, "called", "called", now, window=number, clerk=clerk_id)
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
    event = record_event(
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
    record_event(session, ticket, "no_show", "no_show", now, window=number, clerk=clerk_id)
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
    record_event(session, ticket, "started", "serving", now, window=number, clerk=clerk_id)
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
    record_event(session, ticket, "finished", "done", now, window=number, clerk=clerk_id)
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
    service = get_service(session, to_service or ticket.service_code)
    if to_window is not None:
        if to_window == number:
            raise InvalidInput("cannot transfer a ticket to its own window", code="same_window")
        target = get_window(session, to_window)
        if service.code not in target.service_codes:
            raise InvalidInput(
                f"window {to_window} does not serve {service.code!r}",
                code="window_does_not_serve",
            )
    elif service.code == ticket.service_code:
        raise InvalidInput("the ticket is already in that service", code="same_service")
    record_event(
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
    if to_window is not None:
        _window_changed(session, to_window)  # its "next up" list has the ticket now
    return ticket
