"""What the screens reported about a call, and which screens should have reported.

**The screens that count for a call** are the screen devices of the hall, not revoked,
whose scope shows the call (``hall``, the ``zone:<code>`` of the calling window, or
``window:<n>`` of that window) and that are *in service*: heard from (join, heartbeat or
receipt) since the start of the call's hall day. A screen that died at ten keeps counting,
so its silence shows as "5/6" and as an alert; a device issued but not switched on today
does not. A manager looking at a screen page without a device link is no screen.

A receipt is only what a screen said: ``shown`` when it drew the call, ``spoken`` when its
announcement finished playing. Times are the server's, when it heard the report. Reports are
stored together (``store_reports``: the screens' edge writes one transaction per short
interval, not one per report, and answers a screen once its report is stored).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hall_ops import events
from hall_ops.clock import from_local, hall_day, iso_utc
from hall_ops.errors import Conflict, Forbidden, InvalidInput, NotFound
from hall_ops.events import CallReached, CallRepeated
from hall_ops.queue.models import Ticket, TicketEvent, Window
from hall_ops.queue.records import call_view, get_window
from hall_ops.screens.models import CallAnnouncement, CallReceipt, ScreenPresence
from hall_ops.staff.devices import DeviceIdentity
from hall_ops.staff.models import Device

CALL_KINDS = ("called", "recalled")
STAGES = ("shown", "spoken")


def scopes_showing(zone: str, window: int) -> tuple[str, ...]:
    """The device scopes whose screens show a call of ``window`` in ``zone``."""
    return ("hall", f"zone:{zone}", f"window:{window}")


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


@dataclass(frozen=True)
class CallPlace:
    """Where a call (or one re-announcement of it) was shown: facts that never change once
    the call is recorded, so the screens' edge may keep them."""

    call: int
    announcement: int
    """0: the call itself; otherwise the ``call_announcements.id``."""
    window: int
    zone: str


@dataclass(frozen=True)
class Receipt:
    """A screen's report, as heard at ``at`` (the server's time)."""

    device_id: int
    place: CallPlace
    stage: str
    at: dt.datetime


def call_place(session: Session, call_id: int, announcement: int | None) -> CallPlace:
    """The call ``call_id`` (or its re-announcement), or ``NotFound``."""
    event = session.get(TicketEvent, call_id)
    if event is None or event.kind not in CALL_KINDS or event.window_number is None:
        raise NotFound(f"no call {call_id}", code="unknown_call")
    window = get_window(session, event.window_number)
    if announcement:
        repeat = session.get(CallAnnouncement, announcement)
        if repeat is None or repeat.call_id != call_id:
            raise NotFound(f"no announcement {announcement} of call {call_id}",
                           code="unknown_announcement")
    return CallPlace(call_id, announcement or 0, window.number, window.zone_code)


def receipt(device: DeviceIdentity, place: CallPlace, stage: str, now: dt.datetime) -> Receipt:
    """``device``'s report of ``place``, if it is a screen showing that call; else refused."""
    if stage not in STAGES:
        raise InvalidInput("stage is shown or spoken", code="invalid_stage")
    if device.kind != "screen" or device.scope not in scopes_showing(place.zone, place.window):
        raise Forbidden("this screen does not show that call", code="not_this_screen")
    return Receipt(device.id, place, stage, now)


def store_reports(
    session: Session, receipts: Sequence[Receipt], heard_at: Mapping[int, dt.datetime]
) -> None:
    """Store screens' receipts and signs of life together (one statement each, however many
    screens reported): the first report of each stage counts; each screen that reported is
    heard at its latest report. Records ``CallReached`` for each window reported on."""
    rows: dict[tuple[int, int, int], dict[str, Any]] = {}
    last: dict[int, dt.datetime] = dict(heard_at)
    for r in receipts:
        row = rows.setdefault((r.place.call, r.place.announcement, r.device_id), {
            "call_id": r.place.call, "announcement": r.place.announcement,
            "device_id": r.device_id, "shown_at": None, "spoken_at": None})
        column = f"{r.stage}_at"
        row[column] = min(filter(None, (row[column], r.at)))
        last[r.device_id] = max(r.at, last.get(r.device_id, r.at))
    insert = _insert(session)
    if rows:
        table = CallReceipt.__table__
        stmt = insert(CallReceipt).values(list(rows.values()))
        session.execute(stmt.on_conflict_do_update(
            index_elements=["call_id", "announcement", "device_id"],
            set_={c: func.coalesce(table.c[c], stmt.excluded[c]) for c in ("shown_at",
                                                                          "spoken_at")},
        ))
    if last:
        stmt = insert(ScreenPresence).values(
            [{"device_id": d, "last_heard_at": at} for d, at in sorted(last.items())])
        session.execute(stmt.on_conflict_do_update(
            index_elements=["device_id"], set_={"last_heard_at": stmt.excluded.last_heard_at}))
    for window in sorted({r.place.window for r in receipts}):
        events.record(session, CallReached(window))


def day_start(now: dt.datetime, tz: Any) -> dt.datetime:
    """Midnight of the hall day of ``now``, as naive UTC."""
    return from_local(dt.datetime.combine(hall_day(now, tz), dt.time()), tz)


def screens_in_service(
    session: Session, hall: str, since: dt.datetime, scopes: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """Screen devices of ``hall`` heard from since ``since`` (optionally: showing ``scopes``),
    with when each was last heard (naive UTC)."""
    stmt = (
        select(Device, ScreenPresence.last_heard_at)
        .join(ScreenPresence, ScreenPresence.device_id == Device.id)
        .where(Device.hall == hall, Device.kind == "screen", Device.revoked_at.is_(None),
               ScreenPresence.last_heard_at >= since)
        .order_by(Device.id)
    )
    if scopes is not None:
        stmt = stmt.where(Device.scope.in_(scopes))
    return [{"id": d.id, "name": d.name, "scope": d.scope, "last_heard_at": last}
            for d, last in session.execute(stmt).all()]


def latest_call(session: Session, window: int, day: dt.date) -> TicketEvent | None:
    return session.scalars(
        select(TicketEvent)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind.in_(CALL_KINDS), TicketEvent.window_number == window,
               Ticket.day == day)
        .order_by(TicketEvent.id.desc())
        .limit(1)
    ).first()


def call_reach(
    session: Session, hall: str, tz: Any, window: int, now: dt.datetime
) -> dict[str, Any]:
    """The window's latest call today (its latest re-announcement, if any): how many of the
    screens that count (module docstring) reported showing it, and speaking it."""
    event = latest_call(session, window, hall_day(now, tz))
    empty: dict[str, Any] = {"window": window, "call": None, "ticket": None, "repeat": None,
                             "expected": 0, "shown": 0, "spoken": 0, "screens": []}
    if event is None:
        return empty
    ticket = session.get(Ticket, event.ticket_id)
    zone = session.get(Window, window).zone_code  # type: ignore[union-attr]
    repeat = session.scalar(
        select(func.max(CallAnnouncement.id)).where(CallAnnouncement.call_id == event.id))
    receipts = {
        r.device_id: r
        for r in session.scalars(select(CallReceipt).where(
            CallReceipt.call_id == event.id, CallReceipt.announcement == (repeat or 0)))
    }
    screens = [
        {**s, "last_heard_at": iso_utc(s["last_heard_at"]),
         "shown": receipts.get(s["id"]) is not None and receipts[s["id"]].shown_at is not None,
         "spoken": receipts.get(s["id"]) is not None and receipts[s["id"]].spoken_at is not None}
        for s in screens_in_service(session, hall, day_start(event.at, tz),
                                    scopes_showing(zone, window))
    ]
    return {
        **empty,
        "call": event.id,
        "ticket": ticket.number if ticket else None,
        "repeat": repeat,
        "expected": len(screens),
        "shown": sum(s["shown"] for s in screens),
        "spoken": sum(s["spoken"] for s in screens),
        "screens": screens,
    }


def reannounce(session: Session, window: int, actor: str, now: dt.datetime,
               expected: str | None = None) -> dict[str, Any]:
    """Show and speak the window's current call again on its screens (audited with the
    actor and origin; not a recall: the ticket's recall count stays). Returns the call as
    the screens get it, ``repeat`` naming this re-announcement."""
    w = get_window(session, window)
    ticket = session.get(Ticket, w.current_ticket_id) if w.current_ticket_id else None
    if ticket is None or ticket.status != "called":
        raise Conflict("no called ticket at this window to announce", code="nothing_to_announce")
    if expected is not None and ticket.number != expected:
        raise Conflict(f"ticket {expected} is not the one at window {window} ({ticket.number})",
                       code="ticket_not_current")
    event = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.window_number == window,
               TicketEvent.kind.in_(CALL_KINDS))
        .order_by(TicketEvent.id.desc()).limit(1)
    ).first()
    if event is None:
        raise Conflict("no call of this ticket at this window", code="nothing_to_announce")
    repeat = CallAnnouncement(call_id=event.id, window_number=window, at=now, actor=actor,
                              origin=session.info.get("origin"))
    session.add(repeat)
    session.flush()
    call = {**call_view(event, ticket.number, ticket.service_code, w.zone_code),
            "repeat": repeat.id}
    events.record(session, CallRepeated(call))
    return call
