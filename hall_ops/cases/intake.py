"""One-window intake (一窗受理): the intake record, accept-with-gaps, the routing slip.

The intake window, while serving a ticket, accepts several items of several
departments as one case (parallel approval). Rules the code enforces:

- A missing **key** material refuses intake (``IntakeRefused``, naming every
  item and material); a missing non-key material is accepted as a gap
  (容缺) with a deadline of ``supplement_working_days`` working days.
- A material several items need is stored once (``case_materials``) and
  linked to each item, so it is handed in once.
- In the same transaction as the record, one hand-off message per department
  goes to the transactional outbox (``hall_ops.cases.handoff``): the record and its
  hand-off exist together or not at all.
- Each item's time limit runs from the day of acceptance in working days and
  stops while a supplement requested by the department is outstanding; the
  pauses are read back from the append-only status history.

Functions run inside the caller's write transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from hall_ops import events
from hall_ops.cases.calendar import (
    DEFAULT_WARNING_FRACTION,
    WorkCalendar,
)
from hall_ops.cases.catalogue import ServiceItem, get_item
from hall_ops.cases.destination import HERE, Destination, record_destination
from hall_ops.cases.handoff import enqueue_handoff
from hall_ops.cases.identity import (
    validate_credit_code,
    validate_phone,
    validate_resident_id,
)
from hall_ops.cases.models import (
    ID_NUMBER_CONTEXT,
    Case,
    CaseCounter,
    CaseItem,
    CaseItemEvent,
    CaseMaterial,
    CaseVisit,
)
from hall_ops.cases.views import date_text, material_view
from hall_ops.clock import hall_day, iso_utc
from hall_ops.config import HallConfig
from hall_ops.errors import Conflict, InvalidInput, NotFound, Unauthorized
from hall_ops.events import CaseAccepted
from hall_ops.licences import library
from hall_ops.privacy import blind_index
from hall_ops.queue import ACTIVE
from hall_ops.queue.models import Ticket, Window

ITEM_STATUSES = (
    "submitted", "in_review", "supplement_requested", "approved", "rejected", "delivered",
)
OPEN_STATUSES = ("submitted", "in_review", "supplement_requested")
"""Not yet decided: the time limit is running (or paused)."""
TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"in_review", "supplement_requested", "rejected"}),
    "in_review": frozenset({"supplement_requested", "approved", "rejected"}),
    "supplement_requested": frozenset({"in_review", "rejected"}),
    "approved": frozenset({"delivered"}),
    "rejected": frozenset(),
    "delivered": frozenset(),
}
REASON_REQUIRED = frozenset({"supplement_requested", "rejected"})
"""The applicant is told why: no supplement request or rejection without a reason."""
APPLICANT_KINDS = ("person", "organisation")
DEFAULT_SUPPLEMENT_WORKING_DAYS = 5


@dataclass(frozen=True)
class IntakeRules:
    calendar: WorkCalendar
    timezone: ZoneInfo
    supplement_working_days: int = DEFAULT_SUPPLEMENT_WORKING_DAYS
    """Working days an applicant has to supply a missing non-key material."""
    warn_at: float = DEFAULT_WARNING_FRACTION

    @classmethod
    def from_config(cls, hall: HallConfig) -> IntakeRules:
        """From ``[calendar]`` and ``[intake] supplement_working_days / warning_fraction``."""
        intake, calendar = hall.sections.intake, hall.sections.calendar
        return cls(
            calendar=WorkCalendar.from_config(calendar.model_dump()),
            timezone=hall.timezone,
            supplement_working_days=intake.supplement_working_days,
            warn_at=intake.warning_fraction,
        )


@dataclass(frozen=True)
class Applicant:
    """``id_number``: resident ID of a person, unified social credit code of an organisation."""

    kind: str
    name: str
    id_number: str
    phone: str
    email: str | None = None
    """Optional: the result-ready notice also goes there when the hall sends e-mail."""


EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")


class IntakeRefused(InvalidInput):
    """Key materials are missing. ``missing`` lists {item, item_name_zh, material} for each."""

    code = "key_material_missing"

    def __init__(self, missing: list[dict[str, str]]) -> None:
        listed = "; ".join(f"{m['item']} {m['item_name_zh']}: {m['material']}" for m in missing)
        super().__init__(f"intake refused, key material missing — {listed}", missing=missing)

    @property
    def missing(self) -> list[dict[str, str]]:
        return self.details["missing"]


# ---------------------------------------------------------------- intake


def validate_applicant(applicant: Applicant, today: dt.date) -> Applicant:
    """The applicant with normalised identity number and phone, or InvalidInput."""
    if applicant.kind not in APPLICANT_KINDS:
        raise InvalidInput(
            f"applicant kind must be one of {', '.join(APPLICANT_KINDS)}", code="invalid_applicant"
        )
    name = applicant.name.strip()
    if not name or len(name) > 128:
        raise InvalidInput(
            "applicant name is required (at most 128 characters)", code="invalid_name"
        )
    if applicant.kind == "person":
        id_number = validate_resident_id(applicant.id_number, today=today)
    else:
        id_number = validate_credit_code(applicant.id_number)
    email = (applicant.email or "").strip() or None
    if email is not None and (len(email) > 254 or not EMAIL.fullmatch(email)):
        raise InvalidInput("invalid e-mail address", code="invalid_email")
    return Applicant(applicant.kind, name, id_number, validate_phone(applicant.phone), email)


def create_intake(
    session: Session,
    rules: IntakeRules,
    *,
    ticket_id: int,
    window_number: int,
    clerk_id: str,
    applicant: Applicant,
    item_codes: Sequence[str],
    received: Iterable[str] = (),
    e_licences: Iterable[str] = (),
    licences: Mapping[str, str] | None = None,
    consent: bool = False,
    destination: Destination = HERE,
    now: dt.datetime,
) -> Case:
    """Accept items for the ticket being served at a window; returns the new case.

    ``received`` are materials handed in on paper, ``e_licences`` those fetched as
    e-licences from outside the hall's library (by Chinese material name), ``licences``
    material → number of a licence of the hall's library attached instead of paper, with
    the applicant's ``consent`` (each use is logged per department). ``destination``: where
    the result goes, checked by ``destination.check_destination`` (default: collected here).
    Everything is checked before anything is written, so a refusal leaves no trace.
    """
    window = session.get(Window, window_number)
    if window is None:
        raise NotFound(f"no window {window_number}", code="unknown_window")
    if window.clerk_id != clerk_id:
        raise Unauthorized(
            f"clerk {clerk_id} is not logged in at window {window_number}", code="not_at_window"
        )
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or window.current_ticket_id != ticket.id or ticket.status not in ACTIVE:
        raise Conflict(
            f"ticket {ticket_id} is not being served at window {window_number}",
            code="ticket_not_current",
        )
    day = hall_day(now, rules.timezone)
    applicant = validate_applicant(applicant, day)

    if not item_codes:
        raise InvalidInput("choose at least one item", code="no_items")
    if len(set(item_codes)) != len(item_codes):
        raise InvalidInput("an item is listed twice", code="duplicate_item")
    items = [get_item(session, code) for code in item_codes]
    elsewhere = [i.code for i in items if i.service_code not in window.service_codes]
    if elsewhere:
        raise InvalidInput(
            f"window {window_number} does not accept item(s) {', '.join(elsewhere)}",
            code="item_not_at_window",
            items=elsewhere,
        )

    needed = _merge_materials(items)
    licences = dict(licences or {})
    paper, electronic = set(received), set(e_licences) | set(licences)
    if set(licences) & set(e_licences):
        raise InvalidInput("a material is listed twice as an e-licence", code="material_twice")
    unknown = sorted((paper | electronic) - set(needed))
    if unknown:
        raise InvalidInput(
            f"not a material of these items: {', '.join(unknown)}",
            code="unknown_material",
            materials=unknown,
        )
    if paper & electronic:
        raise InvalidInput(
            f"received both on paper and as e-licence: {', '.join(sorted(paper & electronic))}",
            code="material_twice",
        )
    refused_e = sorted(n for n in electronic if not needed[n].e_licence_allowed)
    if refused_e:
        raise InvalidInput(
            f"an e-licence cannot replace: {', '.join(refused_e)}",
            code="e_licence_not_accepted",
            materials=refused_e,
        )
    missing_key = [
        {"item": item.code, "item_name_zh": item.name_zh, "material": m.name_zh}
        for item in items
        for m in item.materials
        if m.key and m.name_zh not in paper | electronic
    ]
    if missing_key:
        raise IntakeRefused(missing_key)
    attached = library.check_attachments(
        session, applicant.kind, applicant.id_number, licences,
        {name: m.e_licence_allowed for name, m in needed.items()}, consent, now,
    )

    gap_due = rules.calendar.add_working_days(day, rules.supplement_working_days)
    case = Case(
        number=f"SQ{day:%Y%m%d}-{_next_case_seq(session, day):04d}",
        day=day,
        accepted_at=now,
        ticket_id=ticket.id,
        window_number=window_number,
        clerk_id=clerk_id,
        applicant_kind=applicant.kind,
        applicant_name=applicant.name,
        applicant_id_number=applicant.id_number,
        applicant_phone=applicant.phone,
        applicant_email=applicant.email,
        windows_visited=1,
        materials_handed_in=len(paper),
    )
    for name, material in needed.items():
        if name in paper or name in electronic:
            material.source = "paper" if name in paper else "e_licence"
            material.received_at = now
        else:
            material.due_on = gap_due
        case.materials.append(material)
    for item in items:
        case_item = CaseItem(
            item=item,
            department_code=item.department_code,
            department_name_zh=item.department_name_zh,
            time_limit_days=item.time_limit_days,
            status="submitted",
            materials=[needed[m.name_zh] for m in item.materials],
        )
        case.items.append(case_item)
    session.add(case)
    session.flush()
    for case_item in case.items:
        session.add(
            CaseItemEvent(
                case_item_id=case_item.id, at=now, from_status=None, to_status="submitted",
                actor=clerk_id, origin=session.info.get("origin"),
            )
        )
    session.add(
        CaseVisit(case_id=case.id, ticket_id=ticket.id, window_number=window_number, at=now,
                  purpose="intake")
    )
    library.record_uses(session, case, attached, clerk_id, now)
    record_destination(session, case, destination, clerk_id, now)
    for department in sorted({i.department_code for i in case.items}):
        enqueue_handoff(
            session,
            case_number=case.number,
            department=department,
            payload=_handoff_payload(case, department, rules),
            idempotency_key=f"{case.number}:{department}",
            now=now,
        )
    session.flush()
    events.record(session, CaseAccepted(window_number, {
        "case_number": case.number,
        "window": window_number,
        "ticket": ticket.number,
        "items": [i.item_code for i in case.items],
        "departments": sorted({i.department_code for i in case.items}),
        "gaps": sum(1 for m in case.materials if m.missing),
    }))
    return case


def ticket_at_window(
    session: Session, window_number: int, expected: str | None, clerk_id: str | None = None
) -> Ticket:
    """The ticket in hand at a window, checked against the number the clerk's page shows.

    If the window has moved on to another ticket the action is refused, so a
    case or a supplement is never tied to the wrong citizen.
    """
    window = session.get(Window, window_number)
    if window is None:
        raise NotFound(f"no window {window_number}", code="unknown_window")
    if clerk_id is not None and window.clerk_id != clerk_id:
        raise Conflict(f"{expected} is not being served at window {window_number}",
                       code="ticket_not_current")
    ticket = session.get(Ticket, window.current_ticket_id) if window.current_ticket_id else None
    if ticket is None:
        raise Conflict(f"window {window_number} is serving no ticket", code="no_current_ticket")
    if expected is not None and ticket.number != expected:
        raise Conflict(f"window {window_number} now serves {ticket.number}, not {expected}",
                       code="ticket_not_current")
    return ticket


def _merge_materials(items: Sequence[ServiceItem]) -> dict[str, CaseMaterial]:
    """One case material per material name across the items (unsaved rows)."""
    merged: dict[str, CaseMaterial] = {}
    for item in items:
        for m in item.materials:
            row = merged.get(m.name_zh)
            if row is None:
                merged[m.name_zh] = CaseMaterial(
                    name_zh=m.name_zh, name_en=m.name_en, key=m.key, copies=m.copies,
                    e_licence_allowed=m.e_licence,
                )
            else:
                row.key = row.key or m.key
                row.copies = max(row.copies, m.copies)
                row.e_licence_allowed = row.e_licence_allowed and m.e_licence
    return merged


def _next_case_seq(session: Session, day: dt.date) -> int:
    """Atomically bump the day's case counter: an upsert, so two windows never share a number."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(CaseCounter)
        .values(day=day, last_number=1)
        .on_conflict_do_update(
            index_elements=[CaseCounter.day], set_={"last_number": CaseCounter.last_number + 1}
        )
        .returning(CaseCounter.last_number)
    )
    return int(session.execute(stmt).scalar_one())


def _handoff_payload(case: Case, department: str, rules: IntakeRules) -> dict[str, Any]:
    """What the department's approval back-end needs: its items and every material they use.

    The full identity goes to the department (it decides on it); only printed
    and displayed views are masked.
    """
    items = [i for i in case.items if i.department_code == department]
    materials = {m.id: m for i in items for m in i.materials}
    return {
        "case_number": case.number,
        "accepted_at": iso_utc(case.accepted_at),
        "accepted_on": case.day.isoformat(),
        "window": case.window_number,
        "clerk": case.clerk_id,
        "department": {"code": department, "name_zh": items[0].department_name_zh},
        "applicant": {
            "kind": case.applicant_kind,
            "name": case.applicant_name,
            "id_number": case.applicant_id_number,
            "phone": case.applicant_phone,
        },
        "items": [
            {
                "code": i.item_code,
                "name_zh": i.item.name_zh,
                "name_en": i.item.name_en,
                "time_limit_days": i.time_limit_days,
                "deadline": date_text(rules.calendar.deadline(case.day, i.time_limit_days)),
            }
            for i in items
        ],
        "materials": [material_view(m) for m in sorted(materials.values(), key=lambda m: m.id)],
    }


# ---------------------------------------------------------------- after intake


def get_case(session: Session, case_number: str) -> Case:
    case = session.scalars(
        select(Case)
        .where(Case.number == case_number)
        .options(
            selectinload(Case.items).selectinload(CaseItem.events),
            selectinload(Case.items).selectinload(CaseItem.materials),
            selectinload(Case.items).selectinload(CaseItem.item),
            selectinload(Case.materials).selectinload(CaseMaterial.items),
        )
    ).first()
    if case is None:
        raise NotFound(f"no case {case_number}", code="unknown_case")
    return case


def cases_of_applicant(session: Session, id_number: str) -> list[Case]:
    """An applicant's cases, newest first, found by ID number through its keyed hash (the
    number itself is stored encrypted and cannot be compared in SQL)."""
    return list(
        session.scalars(
            select(Case)
            .where(Case.applicant_id_hash == blind_index(id_number, ID_NUMBER_CONTEXT))
            .order_by(Case.id.desc())
        )
    )


def record_supplement(
    session: Session,
    case_number: str,
    material: str,
    now: dt.datetime,
    *,
    ticket_id: int | None = None,
    e_licence: bool = False,
    licence: str | None = None,
    consent: bool = False,
    actor: str | None = None,
) -> CaseMaterial:
    """A gap is filled: the missing material arrived (on paper, or fetched as e-licence, or
    as ``licence``, a licence of the hall's library, with the applicant's ``consent``: its
    use by the departments needing the material is logged, ``actor`` the clerk).

    ``ticket_id``: the ticket served when it was handed in at a window; that
    window visit is counted once per ticket. Without it (post, online) no
    visit is counted. Items paused for a supplement stay paused until the
    department resumes them (``set_item_status(..., "in_review")``): only the
    department can judge the supplement sufficient.
    """
    case = get_case(session, case_number)
    row = next((m for m in case.materials if m.name_zh == material), None)
    if row is None:
        raise NotFound(f"case {case_number} has no material {material!r}", code="unknown_material")
    if row.received_at is not None:
        raise Conflict(f"{material!r} was already received", code="already_received")
    if (e_licence or licence) and not row.e_licence_allowed:
        raise InvalidInput(
            f"an e-licence cannot replace {material!r}", code="e_licence_not_accepted"
        )
    if licence and not actor:
        raise InvalidInput("who records the licence's use is required", code="actor_required")
    attached = library.check_attachments(
        session, case.applicant_kind, case.applicant_id_number,
        {material: licence} if licence else {}, {material: row.e_licence_allowed}, consent, now,
    )
    if ticket_id is not None:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}", code="unknown_ticket")
        seen = session.scalars(
            select(CaseVisit.id).where(
                CaseVisit.case_id == case.id, CaseVisit.ticket_id == ticket_id
            )
        ).first()
        if seen is None:
            session.add(
                CaseVisit(case_id=case.id, ticket_id=ticket_id, window_number=ticket.window_number,
                          at=now, purpose="supplement")
            )
            case.windows_visited += 1
    row.received_at = now
    electronic = e_licence or bool(attached)
    row.source = "e_licence" if electronic else "paper"
    if not electronic:
        case.materials_handed_in += 1
    session.flush()
    if attached and actor:
        library.record_uses(session, case, attached, actor, now, purpose="supplement")
    return row


def set_item_status(
    session: Session,
    case_number: str,
    item_code: str,
    status: str,
    actor: str,
    reason: str | None = None,
    *,
    now: dt.datetime,
) -> CaseItem:
    """Move a case item along its life cycle (``TRANSITIONS``); every move is in the history.

    Entering ``supplement_requested`` stops the item's clock; leaving it
    restarts it. Approval or rejection fixes ``decided_at``.
    """
    if status not in ITEM_STATUSES:
        raise InvalidInput(
            f"status must be one of {', '.join(ITEM_STATUSES)}", code="invalid_status"
        )
    if not actor or not actor.strip():
        raise InvalidInput("who makes the change is required", code="actor_required")
    reason = (reason or "").strip() or None
    if status in REASON_REQUIRED and reason is None:
        raise InvalidInput(f"a reason is required for {status}", code="reason_required")
    if reason is not None and len(reason) > 500:
        raise InvalidInput("reason is at most 500 characters", code="invalid_reason")
    item = session.scalars(
        select(CaseItem)
        .join(Case, Case.id == CaseItem.case_id)
        .where(Case.number == case_number, CaseItem.item_code == item_code)
        .with_for_update()
    ).first()
    if item is None:
        raise NotFound(f"case {case_number} has no item {item_code}", code="unknown_case_item")
    if status not in TRANSITIONS[item.status]:
        raise Conflict(
            f"{item_code} of {case_number} cannot go from {item.status} to {status}",
            code="invalid_transition",
        )
    session.add(
        CaseItemEvent(
            case_item_id=item.id, at=now, from_status=item.status, to_status=status,
            actor=actor.strip(), reason=reason, origin=session.info.get("origin"),
        )
    )
    item.status = status
    if status in ("approved", "rejected"):
        item.decided_at = now
    session.flush()
    if status == "approved":
        library.issue_on_approval(session, item, actor.strip(), now)
    session.expire(item, ["events"])
    return item
