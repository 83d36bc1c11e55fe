"""What every queue transition shares: looking up a service or window, and stamping
a transition in the append-only ``ticket_events`` (with the transaction's origin)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops import events
from hall_ops.clock import iso_utc
from hall_ops.errors import NotFound
from hall_ops.events import QueueChanged, TicketCalled, TicketIssued, WindowChanged
from hall_ops.queue.models import (
    Service,
    Ticket,
    TicketEvent,
    Window,
)

ACTIVE = ("called", "serving")
"""States in which a ticket is at a window."""


def get_service(session: Session, code: str) -> Service:
    service = session.get(Service, code)
    if service is None:
        raise NotFound(f"unknown service {code!r}", code="unknown_service")
    return service

def get_window(session: Session, number: int, *, lock: bool = False) -> Window:
    stmt = select(Window).where(Window.number == number)
    if lock:
        stmt = stmt.with_for_update()
    window = session.scalars(stmt).first()
    if window is None:
        raise NotFound(f"no window {number}", code="unknown_window")
    return window

def record_event(
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
    events.record(session, QueueChanged())
    if kind == "taken":
        events.record(session, TicketIssued(ticket.service_code, ticket.priority))
    if window is not None:
        events.record(session, WindowChanged(window))
        if kind in ("called", "recalled"):
            zone = session.get(Window, window).zone_code  # type: ignore[union-attr]
            call = call_view(event, ticket.number, ticket.service_code, zone)
            waited = (now - ticket.taken_at).total_seconds() if kind == "called" else None
            events.record(session, TicketCalled(call, waited))
    return event


def call_view(event: TicketEvent, number: str, service: str, zone: str) -> dict[str, Any]:
    """One call as every screen receives it; ``seq`` lets a screen drop what it already has."""
    return {
        "seq": event.id,
        "ticket": number,
        "window": event.window_number,
        "zone": zone,
        "service": service,
        "recall": event.kind == "recalled",
        "at": iso_utc(event.at),
    }
