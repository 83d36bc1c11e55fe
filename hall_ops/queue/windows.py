"""What a clerk does at a window: log in, pause (with a reason), call next, call a chosen
number out of order, recall, skip, serve, finish, transfer, and let a missed ticket rejoin.
Each runs inside the caller's write transaction; the window row is locked first, so two
presses (or two processes) never act on one window at once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hall_ops import events
from hall_ops.clock import hall_day
from hall_ops.config import HallConfig
from hall_ops.errors import Conflict, InvalidInput, NotFound, Unauthorized
from hall_ops.events import MissedChanged, QueueChanged, WindowChanged
from hall_ops.queue.models import (
    PAUSE_REASONS,
    Clerk,
    Ticket,
    TicketEvent,
    Window,
    WindowPause,
    WindowService,
)
from hall_ops.queue.records import ACTIVE, get_service, get_window, record_event


def _window_changed(session: Session, number: int) -> None:
    events.record(session, WindowChanged(number))
    events.record(session, QueueChanged())

def _missed_changed(session: Session, service_code: str) -> None:
    """A missed list changed: screens, and the consoles of the open windows serving it."""
    events.record(session, MissedChanged())
    for number in session.scalars(
        select(Window.number).join(Window.assignments)
        .where(Window.state != "closed", WindowService.service_code == service_code)
    ):
        events.record(session, WindowChanged(number))


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
    if window.retired_at is not None:
        raise Conflict(f"window {number} is closed for good", code="window_retired")
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

def close_window(session: Session, number: int, clerk_id: str, now: dt.datetime) -> Window:
    """The clerk logs out. Tickets transferred to this window by name go back to their
    service's queue (recorded), since nobody would ever call them here."""
    window = _staffed_window(session, number, clerk_id)
    if window.current_ticket_id is not None:
        raise Conflict("finish or hand on the current ticket first", code="window_busy")
    _end_pause(session, number, now)
    window.clerk_id = None
    window.state = "closed"
    window.opened_at = None
    for ticket in session.scalars(
        select(Ticket).where(Ticket.status == "waiting", Ticket.target_window_number == number)
        .with_for_update()
    ):
        record_event(session, ticket, "untargeted", "waiting", now, clerk=clerk_id,
                     reason="window_closed", from_window=number)
        ticket.target_window_number = None
    _window_changed(session, number)
    return window

def _end_pause(session: Session, number: int, now: dt.datetime) -> None:
    for pause in session.scalars(
        select(WindowPause).where(WindowPause.window_number == number,
                                  WindowPause.ended_at.is_(None))
    ):
        pause.ended_at = now

def pause_window(
    session: Session, number: int, clerk_id: str, paused: bool, now: dt.datetime,
    reason: str | None = None,
) -> Window:
    """Pause (with a reason from ``PAUSE_REASONS``, kept for the reports) or resume."""
    window = _staffed_window(session, number, clerk_id)
    if paused:
        if window.current_ticket_id is not None:
            raise Conflict("finish or hand on the current ticket first", code="window_busy")
        if reason not in PAUSE_REASONS:
            raise InvalidInput(f"a pause needs a reason: one of {', '.join(PAUSE_REASONS)}",
                               code="pause_reason_required")
        if window.state == "paused":
            raise Conflict(f"window {number} is paused already", code="window_paused")
        session.add(WindowPause(window_number=number, clerk_id=clerk_id, reason=reason,
                                started_at=now, origin=session.info.get("origin")))
        window.state = "paused"
    elif window.state == "paused":
        _end_pause(session, number, now)
        window.state = "idle"
    else:
        return window  # not paused: resuming changes nothing (never a ticket's window state)
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
    services = _ready_to_call(window, number)
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
    return ticket, _take(session, window, ticket, clerk_id, now)

def _ready_to_call(window: Window, number: int) -> list[str]:
    if window.state == "paused":
        raise Conflict(f"window {number} is paused", code="window_paused")
    if window.current_ticket_id is not None:
        raise Conflict(
            "finish, transfer or mark no-show the current ticket first", code="window_busy"
        )
    if not window.service_codes:
        raise Conflict(f"window {number} serves no service", code="no_services")
    return window.service_codes

def _take(
    session: Session, window: Window, ticket: Ticket, clerk_id: str, now: dt.datetime,
    **detail: str,
) -> TicketEvent:
    event = record_event(session, ticket, "called", "called", now, window=window.number,
                         clerk=clerk_id, **detail)
    ticket.called_at = now
    ticket.window_number = window.number
    ticket.clerk_id = clerk_id
    ticket.target_window_number = None
    ticket.recalls = 0
    window.current_ticket_id = ticket.id
    window.state = "calling"
    return event

def call_ticket(
    session: Session, hall: HallConfig, number: int, clerk_id: str, now: dt.datetime,
    ticket_number: str, reason: str,
) -> tuple[Ticket, TicketEvent]:
    """Call a chosen waiting number out of order (a reason is required and kept in the
    ticket's history).

    The same guarantee as ``call_next``: the window row is locked, and the ticket row is
    taken ``FOR UPDATE SKIP LOCKED`` and only while it is still waiting, so a ticket that
    another window is calling at this instant is not found here, and one already called is
    refused — a ticket is never called by two windows.
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("say why this number is called out of order",
                           code="reason_required")
    if len(reason) > 200:
        raise InvalidInput("a reason is at most 200 characters", code="invalid_reason")
    window = _staffed_window(session, number, clerk_id)
    services = _ready_to_call(window, number)
    wanted = ticket_number.strip().upper()
    ticket = session.scalars(
        select(Ticket)
        .where(
            Ticket.number == wanted,
            Ticket.status == "waiting",
            Ticket.day == hall_day(now, hall.timezone),
            Ticket.service_code.in_(services),
            or_(Ticket.target_window_number.is_(None), Ticket.target_window_number == number),
        )
        .with_for_update(skip_locked=True)
    ).first()
    if ticket is None:
        raise Conflict(
            f"{wanted} is not waiting for window {number} (called elsewhere, finished, "
            "or of another service)", code="ticket_not_callable", ticket=wanted,
        )
    return ticket, _take(session, window, ticket, clerk_id, now, out_of_order="yes",
                         reason=reason)

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
            left=needed - ticket.recalls,
        )
    record_event(session, ticket, "no_show", "no_show", now, window=number, clerk=clerk_id)
    ticket.finished_at = now
    _release(window)
    _missed_changed(session, ticket.service_code)
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
        if target.state == "closed":
            # Nobody would call it there: refused rather than left waiting for no one.
            raise Conflict(f"window {to_window} is closed", code="window_closed",
                           window=to_window)
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


def rejoins(session: Session, ticket: Ticket) -> int:
    return session.scalar(
        select(func.count()).select_from(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "rejoined")
    ) or 0

def rejoin(
    session: Session, hall: HallConfig, ticket: Ticket, now: dt.datetime, *,
    via: str, clerk_id: str | None = None, window: int | None = None,
) -> Ticket:
    """A missed (过号) ticket's holder came back: it waits again, placed by the hall's policy
    (``[queue] rejoin_position``: at the back, or after the next ``rejoin_after_people``),
    at most ``rejoin_limit`` times, on the day it was taken. ``via`` (``window`` or
    ``kiosk``) and who let it in are kept in the ticket's history."""
    rules = hall.queue
    if ticket.status != "no_show":
        raise Conflict(f"ticket {ticket.number} was not missed", code="not_missed",
                       ticket=ticket.number)
    if ticket.day != hall_day(now, hall.timezone):
        raise Conflict(f"ticket {ticket.number} is of an earlier day", code="ticket_expired")
    done = rejoins(session, ticket)
    if done >= rules.rejoin_limit:
        raise Conflict(f"ticket {ticket.number} has rejoined {done} time(s) already",
                       code="rejoin_limit", limit=rules.rejoin_limit)
    ahead = session.scalars(
        select(Ticket.rank_at)
        .where(Ticket.status == "waiting", Ticket.day == ticket.day,
               Ticket.service_code == ticket.service_code,
               Ticket.target_window_number.is_(None))
        .order_by(Ticket.rank_at, Ticket.id)
    ).all()
    if rules.rejoin_position == "after" and len(ahead) > rules.rejoin_after_people:
        # Just behind the N-th waiting ticket: its rank time and a microsecond.
        n = rules.rejoin_after_people
        rank_at = (ahead[n - 1] + dt.timedelta(microseconds=1) if n
                   else ahead[0] - dt.timedelta(microseconds=1))
        place = rules.rejoin_after_people
    else:
        rank_at = max([now, *(r + dt.timedelta(microseconds=1) for r in ahead)])
        place = len(ahead)
    record_event(session, ticket, "rejoined", "waiting", now, clerk=clerk_id, via=via,
                 at_window=window, policy=rules.rejoin_position, people_ahead=place)
    ticket.rank_at = rank_at
    ticket.window_number = None
    ticket.called_at = None
    ticket.finished_at = None
    ticket.recalls = 0
    _missed_changed(session, ticket.service_code)
    return ticket

def missed_ticket(session: Session, hall: HallConfig, ticket_number: str,
                  now: dt.datetime) -> Ticket:
    """Today's ticket of that number, locked, for a rejoin."""
    ticket = session.scalars(
        select(Ticket).where(Ticket.number == ticket_number.strip().upper(),
                             Ticket.day == hall_day(now, hall.timezone)).with_for_update()
    ).first()
    if ticket is None:
        raise NotFound(f"no ticket {ticket_number} today", code="unknown_ticket")
    return ticket
