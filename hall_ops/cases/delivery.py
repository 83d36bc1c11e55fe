"""One window delivers (统一出件): results wait at the delivery window, the citizen is told.

Once every item of a case is decided and at least one is approved, the case's
result is *ready*: ``find_ready`` records that (one ``deliveries`` row per
case) and ``hall_ops.cases.notices`` tells the citizen; ``notified_at`` stays
empty until a channel confirmed a notice. The citizen checks in at
the kiosk with the case number and the last four digits of their phone and
gets a ticket of the delivery service; the delivery window calls it like any
ticket and records the hand-over, which marks the approved items delivered.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops import events
from hall_ops.cases.destination import check_tracking_number, enqueue_transfer
from hall_ops.cases.intake import get_case, set_item_status
from hall_ops.cases.models import (
    Case,
    CaseItem,
    CaseMaterial,
    CaseVisit,
    CitizenNotice,
    Delivery,
    IncomingResult,
)
from hall_ops.config import HallConfig
from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.events import ResultReady, WindowChanged
from hall_ops.queue import ACTIVE, take_ticket
from hall_ops.queue.models import Ticket, Window

log = logging.getLogger(__name__)

DELIVERY_SERVICE = "delivery"
DECIDED = ("approved", "rejected", "delivered")


def find_ready(session: Session, now: dt.datetime) -> list[Delivery]:
    """Record every newly ready case; returns those not yet notified (new and earlier)."""
    known = select(Delivery.case_id)
    candidates = session.scalars(
        select(Case).where(Case.id.not_in(known)).where(
            Case.id.in_(select(CaseItem.case_id).where(CaseItem.status == "approved"))
        )
    ).all()
    for case in candidates:
        record_if_ready(session, case, now)
    session.flush()
    return list(session.scalars(select(Delivery).where(Delivery.notified_at.is_(None))))


def record_if_ready(session: Session, case: Case, now: dt.datetime) -> bool:
    """Called as a decision is recorded: the result is ready the moment the last item is
    decided (one approved), so the ticket page says so at once, not at the notice job's
    next run. True if it became ready now."""
    session.flush()
    session.expire(case, ["items"])
    if not all(item.status in DECIDED for item in case.items) or not any(
        item.status == "approved" for item in case.items
    ):
        return False
    if session.scalars(select(Delivery.id).where(Delivery.case_id == case.id)).first():
        return False
    session.add(Delivery(case_id=case.id, ready_at=now))
    if case.delivery_mode == "other_hall":
        enqueue_transfer(session, case, now)
    events.record(session, ResultReady(case.number))
    return True


def outstanding_gaps(case: Case, items: Iterable[CaseItem] | None = None) -> list[CaseMaterial]:
    """Gap materials (容缺) still not supplied, of ``items`` (default: the whole case)."""
    wanted = {item.id for item in items} if items is not None else None
    return [
        m for m in case.materials
        if m.missing and (wanted is None or any(i.id in wanted for i in m.items))
    ]


class Named(Protocol):
    @property
    def name_zh(self) -> str: ...
    @property
    def name_en(self) -> str: ...


@dataclass(frozen=True)
class Gap:
    """A gap material as another hall saw it when the result was sent there."""

    name_zh: str
    name_en: str


def gaps_reason(
    gaps: Sequence[Named], confirmed: bool, reason: str | None, doing: str
) -> str | None:
    """An approval or hand-over with gaps outstanding is refused unless confirmed with a
    reason; then that reason, naming the gaps, goes into the items' history (the audit)."""
    if not gaps:
        return reason
    names = "、".join(m.name_zh for m in gaps)
    reason = (reason or "").strip()
    if not confirmed or not reason:
        raise Conflict(
            f"gap materials are still outstanding ({names}): confirm with a reason to {doing}",
            code="gaps_outstanding", materials=[m.name_zh for m in gaps],
            materials_en=[m.name_en for m in gaps],
        )
    return f"{doing} with gaps outstanding ({names}): {reason}"[:500]


def _delivery(session: Session, case: Case) -> Delivery:
    delivery = session.scalars(
        select(Delivery).where(Delivery.case_id == case.id).with_for_update()
    ).first()
    if delivery is None:
        raise Conflict(f"the result of {case.number} is not ready yet", code="result_not_ready")
    return delivery


def check_in(
    session: Session, hall: HallConfig, case_number: str, phone_last4: str, now: dt.datetime,
    *, ignore_hours: bool = False,
) -> Ticket:
    """The citizen comes for the result: a delivery ticket, once the result is ready."""
    if not (phone_last4.isdigit() and len(phone_last4) == 4):
        raise InvalidInput("enter the last four digits of the phone number", code="invalid_phone")
    # A wrong case number and wrong phone digits get the same answer: the check-in must not
    # tell a guesser which case numbers exist.
    unknown = NotFound("no case with that number and phone", code="unknown_case")
    number = case_number.strip().upper()
    try:
        case: Case | None = get_case(session, number)
    except NotFound:
        case = None
    if case is None or not case.applicant_phone.endswith(phone_last4):
        incoming = _incoming(session, number, phone_last4)
        if incoming is None:
            raise unknown
        return _incoming_ticket(session, hall, incoming, now, ignore_hours)
    delivery = _delivery(session, case)
    if case.delivery_mode == "post":
        raise Conflict(f"the result of {case.number} goes by post", code="delivered_by_post")
    if case.delivery_mode == "other_hall" and delivery.handed_over_at is None:
        raise Conflict(f"the result of {case.number} is collected at hall {case.delivery_hall}",
                       code="collected_at_other_hall", hall=case.delivery_hall)
    if delivery.handed_over_at is not None:
        raise Conflict(f"the result of {case.number} has been handed over",
                       code="already_delivered")
    if delivery.ticket_id is not None:
        waiting = session.get(Ticket, delivery.ticket_id)
        if waiting is not None and waiting.status in ("waiting", *ACTIVE):
            return waiting
    ticket = take_ticket(session, hall, DELIVERY_SERVICE, now, ignore_hours=ignore_hours)
    delivery.ticket_id = ticket.id
    return ticket


def _incoming(session: Session, number: str, phone_last4: str) -> IncomingResult | None:
    """A result sent here from another hall under that case number and phone (two halls may
    issue the same number: the phone tells them apart, else the citizen asks at a window)."""
    rows = [row for row in session.scalars(
        select(IncomingResult).where(IncomingResult.case_number == number).with_for_update())
        if str(row.payload["applicant"]["phone"]).endswith(phone_last4)]
    if len(rows) > 1:
        raise Conflict(f"{number} names results of several halls: ask at a window",
                       code="ambiguous_case")
    return rows[0] if rows else None


def _incoming_ticket(
    session: Session, hall: HallConfig, incoming: IncomingResult, now: dt.datetime,
    ignore_hours: bool,
) -> Ticket:
    if incoming.handed_over_at is not None:
        raise Conflict(f"the result of {incoming.case_number} has been handed over",
                       code="already_delivered")
    if incoming.ticket_id is not None:
        waiting = session.get(Ticket, incoming.ticket_id)
        if waiting is not None and waiting.status in ("waiting", *ACTIVE):
            return waiting
    ticket = take_ticket(session, hall, DELIVERY_SERVICE, now, ignore_hours=ignore_hours)
    incoming.ticket_id = ticket.id
    return ticket


def _serving_delivery_ticket(session: Session, ticket_id: int | None) -> Ticket:
    ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
    if ticket is None or ticket.status != "serving":
        raise Conflict("start serving the delivery ticket first", code="not_serving")
    return ticket


def hand_over_result(
    session: Session, number: int, clerk_id: str, now: dt.datetime, *,
    confirm_gaps: bool = False, reason: str | None = None,
) -> tuple[str, IncomingResult | None]:
    """The delivery window hands over the result behind the ticket in hand: a case of this
    hall (``hand_over``) or one sent here from another hall (then returned, so the caller
    tells its origin hall after the commit: ``crosshall.report_deliveries``)."""
    window = session.get(Window, number)
    if window is None:
        raise NotFound(f"no window {number}", code="unknown_window")
    incoming = session.scalars(
        select(IncomingResult).where(IncomingResult.ticket_id == window.current_ticket_id)
        .with_for_update()
    ).first() if window.current_ticket_id else None
    if incoming is None:
        return hand_over(session, number, clerk_id, now, confirm_gaps=confirm_gaps,
                         reason=reason).number, None
    if window.clerk_id != clerk_id:
        raise Conflict(f"clerk {clerk_id} is not at window {number}", code="not_at_window")
    _serving_delivery_ticket(session, incoming.ticket_id)
    if incoming.handed_over_at is not None:
        raise Conflict("already handed over", code="already_delivered")
    gaps = [Gap(g["name_zh"], g["name_en"]) for g in incoming.payload.get("gaps", [])]
    note = gaps_reason(gaps, confirm_gaps, reason, "hand over")
    incoming.handed_over_at, incoming.window_number, incoming.clerk_id = now, number, clerk_id
    incoming.reason, incoming.report_next_at = note, now
    events.record(session, WindowChanged(number))
    return incoming.case_number, incoming


def record_mailing(
    session: Session, case_number: str, tracking_number: str, actor: str, now: dt.datetime,
    *, confirm_gaps: bool = False, reason: str | None = None,
) -> Delivery:
    """By post: the result was mailed, with this tracking number (checked); the approved items
    are delivered, by ``actor``. The citizen's notice (with the number) follows through
    ``notices``; with a gap material outstanding it is refused unless confirmed with a reason."""
    tracking = check_tracking_number(tracking_number)
    case = get_case(session, case_number)
    if case.delivery_mode != "post":
        raise Conflict(f"{case_number} is not delivered by post", code="not_by_post")
    delivery = _delivery(session, case)
    if delivery.mailed_at is not None or delivery.handed_over_at is not None:
        raise Conflict(f"the result of {case_number} has been handed over",
                       code="already_delivered")
    approved = [item for item in case.items if item.status == "approved"]
    note = gaps_reason(outstanding_gaps(case, approved), confirm_gaps, reason, "mail")
    text = f"mailed, tracking number {tracking}" + (f"; {note}" if note else "")
    for item in approved:
        set_item_status(session, case.number, item.item_code, "delivered", actor, text[:500],
                        now=now)
    delivery.mailed_at, delivery.tracking_number, delivery.clerk_id = now, tracking, actor
    return delivery


def awaits_mailing(session: Session, case: Case) -> bool:
    """A result by post that is ready and not yet mailed."""
    if case.delivery_mode != "post":
        return False
    delivery = session.scalars(select(Delivery).where(Delivery.case_id == case.id)).first()
    return delivery is not None and delivery.mailed_at is None


def hand_over(
    session: Session, number: int, clerk_id: str, now: dt.datetime, *,
    confirm_gaps: bool = False, reason: str | None = None,
) -> Case:
    """At the delivery window, for the ticket being served: the approved items are delivered.
    With a gap material still outstanding it is refused unless confirmed with a reason."""
    window = session.get(Window, number)
    if window is None:
        raise NotFound(f"no window {number}", code="unknown_window")
    if window.clerk_id != clerk_id:
        raise Conflict(f"clerk {clerk_id} is not at window {number}", code="not_at_window")
    delivery = session.scalars(
        select(Delivery).where(Delivery.ticket_id == window.current_ticket_id).with_for_update()
    ).first() if window.current_ticket_id else None
    if delivery is None:
        raise Conflict("the ticket in hand is not a delivery ticket", code="not_a_delivery")
    ticket = _serving_delivery_ticket(session, delivery.ticket_id)
    if delivery.handed_over_at is not None:
        raise Conflict("already handed over", code="already_delivered")
    case = session.get(Case, delivery.case_id)
    assert case is not None
    approved = [item for item in case.items if item.status == "approved"]
    note = gaps_reason(outstanding_gaps(case, approved), confirm_gaps, reason, "hand over")
    for item in approved:
        set_item_status(session, case.number, item.item_code, "delivered", clerk_id, note,
                        now=now)
    delivery.handed_over_at, delivery.window_number, delivery.clerk_id = now, number, clerk_id
    session.add(CaseVisit(case_id=case.id, ticket_id=ticket.id, window_number=number, at=now,
                          purpose="delivery"))
    case.windows_visited += 1
    events.record(session, WindowChanged(number))
    return case


def delivery_view(session: Session, ticket_id: int) -> dict[str, Any] | None:
    """For the citizen's ticket page: the case behind this ticket and whether its result waits."""
    case = session.scalars(select(Case).where(Case.ticket_id == ticket_id)).first()
    delivery = None
    if case is None:
        delivery = session.scalars(select(Delivery).where(Delivery.ticket_id == ticket_id)).first()
        case = session.get(Case, delivery.case_id) if delivery else None
    if case is None:
        incoming = session.scalars(
            select(IncomingResult).where(IncomingResult.ticket_id == ticket_id)).first()
        return _incoming_view(incoming) if incoming is not None else None
    delivery = delivery or session.scalars(
        select(Delivery).where(Delivery.case_id == case.id)).first()
    return {
        "case_number": case.number,
        "items": [{"code": i.item_code, "status": i.status} for i in case.items],
        "result_ready": delivery is not None and delivery.handed_over_at is None,
        "handed_over": delivery is not None and delivery.handed_over_at is not None,
        "notice": notice_state(session, delivery),
    }


def notice_state(session: Session, delivery: Delivery | None) -> str | None:
    """Was the citizen told the result is ready: ``notified`` (a channel confirmed it),
    ``sending`` (a notice is still being tried) or ``not_notified``; None before ready."""
    if delivery is None:
        return None
    if delivery.notified_at is not None:
        return "notified"
    trying = session.scalars(select(CitizenNotice.id).where(
        CitizenNotice.delivery_id == delivery.id, CitizenNotice.status == "pending")).first()
    return "sending" if trying is not None else "not_notified"


def _incoming_view(incoming: IncomingResult) -> dict[str, Any]:
    """A result sent here from another hall, as the citizen's ticket page shows it."""
    status = "approved" if incoming.handed_over_at is None else "delivered"
    return {
        "case_number": incoming.case_number,
        "items": [{"code": i["code"], "status": status} for i in incoming.payload["items"]],
        "result_ready": incoming.handed_over_at is None,
        "handed_over": incoming.handed_over_at is not None,
        "notice": None,
        "from_hall": incoming.from_hall,
    }
