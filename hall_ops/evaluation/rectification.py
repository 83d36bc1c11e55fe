"""The bad-rating loop (差评整改): every 不满意/非常不满意 is verified, rectified, called back
and answered within ``rectify_working_days`` (15) working days of the hall's calendar.

Steps, each written to the append-only ``rectification_events`` with its actor (the login
from the session; None only for the opening, which the citizen's rating caused):

* ``rectify`` — the owner records what was found and done (整改措施);
* ``call_back`` — the owner called the citizen back (回访): reached or not, and what was said;
* ``answer`` — the owner's answer to the citizen (答复);
* ``appeal`` — the clerk the rating is attributed to appeals with evidence (申诉), once;
* ``decide_appeal`` — a manager other than the appellant accepts or rejects it. An accepted
  appeal marks the rating ``excluded``: out of the staff's figures, still in the record.

It closes once called back and answered, and rectified or its appeal accepted. Owner: the
manager ``[evaluation] department_managers`` names for the rating's department, else
``hall_manager``, else the hall's first manager by login; with none, the first manager to
act takes it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall_ops.cases.identity import mask_name, mask_phone
from hall_ops.cases.models import Case
from hall_ops.clock import hall_day, iso_utc
from hall_ops.errors import Conflict, Forbidden, InvalidInput, NotFound
from hall_ops.evaluation.models import Rating, Rectification, RectificationEvent
from hall_ops.evaluation.ratings import EvaluationRules, level_code
from hall_ops.queue.models import Appointment
from hall_ops.staff import log as security_log
from hall_ops.staff.models import RoleGrant, StaffMember

STEPS = ("rectify", "call_back", "answer")


def _event(session: Session, row: Rectification, kind: str, actor: str | None,
           now: dt.datetime, **detail: Any) -> None:
    session.add(RectificationEvent(rectification_id=row.id, at=now, kind=kind, actor=actor,
                                   origin=session.info.get("origin"), detail=detail))


def _is_manager(session: Session, login: str, hall: str) -> bool:
    return session.scalars(
        select(StaffMember.id).join(RoleGrant, RoleGrant.staff_id == StaffMember.id)
        .where(StaffMember.id == login, StaffMember.enabled.is_(True),
               RoleGrant.role == "manager", RoleGrant.hall == hall)
    ).first() is not None


def owner_for(session: Session, rules: EvaluationRules, department: str | None) -> str | None:
    """The department's manager, else the hall's (see the module docstring)."""
    for login in (rules.department_managers.get(department or ""), rules.hall_manager):
        if login and _is_manager(session, login, rules.hall_code):
            return login
    return session.scalars(
        select(StaffMember.id).join(RoleGrant, RoleGrant.staff_id == StaffMember.id)
        .where(StaffMember.enabled.is_(True), RoleGrant.role == "manager",
               RoleGrant.hall == rules.hall_code)
        .order_by(StaffMember.id).limit(1)
    ).first()


def open_for(session: Session, rules: EvaluationRules, rating: Rating,
             now: dt.datetime) -> Rectification:
    """Open the rectification of a bad rating, due on the n-th working day after its day."""
    opened_on = hall_day(now, rules.timezone)
    row = Rectification(
        rating_id=rating.id, owner=owner_for(session, rules, rating.department_code),
        department_code=rating.department_code, window_number=rating.window_number,
        clerk_id=rating.clerk_id, opened_at=now,
        due_on=rules.calendar.add_working_days(opened_on, rules.rectify_working_days),
        status="open", appeal_status="none",
    )
    session.add(row)
    session.flush()
    _event(session, row, "opened", None, now, level=rating.level, owner=row.owner,
           due_on=row.due_on.isoformat())
    return row


def get(session: Session, rectification_id: int, *, lock: bool = False) -> Rectification:
    row = session.get(Rectification, rectification_id, with_for_update=lock)
    if row is None:
        raise NotFound(f"no rectification {rectification_id}", code="unknown_rectification")
    return row


def _text(value: str | None, name: str, longest: int, *, required: bool = True) -> str | None:
    value = (value or "").strip() or None
    if value is None and required:
        raise InvalidInput(f"{name} is required", code="text_required", field=name)
    if value is not None and len(value) > longest:
        raise InvalidInput(f"{name} is at most {longest} characters", code="text_too_long",
                           field=name)
    return value


def _owner_acts(session: Session, row: Rectification, actor: str, now: dt.datetime) -> None:
    if row.status != "open":
        raise Conflict(f"rectification {row.id} is closed", code="rectification_closed")
    if row.owner is None:
        row.owner = actor
        _event(session, row, "owner_taken", actor, now)
    elif row.owner != actor:
        raise Forbidden(f"rectification {row.id} belongs to {row.owner}", code="not_owner")


def _maybe_close(session: Session, rules: EvaluationRules, row: Rectification,
                 now: dt.datetime) -> None:
    settled = row.rectified_at is not None or row.appeal_status == "accepted"
    if row.status == "open" and settled and row.call_back_at and row.answered_at:
        row.status, row.closed_at = "closed", now
        row.closed_on = hall_day(now, rules.timezone)
        _event(session, row, "closed", None, now, on_time=row.closed_on <= row.due_on)
        if rules.export:
            from hall_ops.evaluation import export

            session.flush()
            export.rectification_changed(session, row, "closed", now)


def act(session: Session, rules: EvaluationRules, rectification_id: int, step: str, actor: str,
        now: dt.datetime, *, text: str | None = None, reached: bool | None = None) -> Rectification:
    """One of ``STEPS`` by its owner; a step already done is refused, not overwritten."""
    if step not in STEPS:
        raise InvalidInput(f"step must be one of {', '.join(STEPS)}", code="invalid_step")
    row = get(session, rectification_id, lock=True)
    _owner_acts(session, row, actor, now)
    if step == "rectify":
        if row.rectified_at is not None:
            raise Conflict("the measures are recorded already", code="step_done")
        row.measures = _text(text, "measures", 1000)
        row.rectified_at, row.rectified_by = now, actor
        _event(session, row, "rectified", actor, now, measures=row.measures)
    elif step == "call_back":
        if row.call_back_at is not None:
            raise Conflict("the call-back is recorded already", code="step_done")
        if reached is None:
            raise InvalidInput("say whether the citizen was reached", code="reached_required",
                               field="reached")
        row.call_back_note = _text(text, "note", 500, required=False)
        row.call_back_at, row.call_back_by, row.call_back_reached = now, actor, reached
        _event(session, row, "called_back", actor, now, reached=reached,
               note=row.call_back_note)
    else:
        if row.answered_at is not None:
            raise Conflict("the citizen has been answered already", code="step_done")
        row.answer = _text(text, "answer", 1000)
        row.answered_at, row.answered_by = now, actor
        _event(session, row, "answered", actor, now, answer=row.answer)
    _maybe_close(session, rules, row, now)
    session.flush()
    return row


def appeal(session: Session, rectification_id: int, clerk: str, reason: str | None,
           evidence: str | None, now: dt.datetime) -> Rectification:
    """The clerk the rating is attributed to appeals it, once, while it is open."""
    row = get(session, rectification_id, lock=True)
    if row.clerk_id != clerk:
        raise Forbidden("only the clerk the rating names may appeal it", code="not_your_rating")
    if row.status != "open":
        raise Conflict(f"rectification {row.id} is closed", code="rectification_closed")
    if row.appeal_status != "none":
        raise Conflict("this rating has been appealed already", code="already_appealed")
    row.appeal_reason = _text(reason, "reason", 1000)
    row.appeal_evidence = _text(evidence, "evidence", 2000)
    row.appeal_status, row.appealed_by, row.appealed_at = "pending", clerk, now
    _event(session, row, "appealed", clerk, now, reason=row.appeal_reason,
           evidence=row.appeal_evidence)
    session.flush()
    return row


def decide_appeal(session: Session, rules: EvaluationRules, rectification_id: int,
                  accept: bool, actor: str, note: str | None, now: dt.datetime) -> Rectification:
    """A manager (not the appellant) accepts or rejects a pending appeal, with a reason.
    Accepting takes the rating out of the figures of the staff (``Rating.excluded``)."""
    row = get(session, rectification_id, lock=True)
    if row.appeal_status != "pending":
        raise Conflict("no appeal is waiting for a decision", code="no_pending_appeal")
    if actor == row.appealed_by:
        raise Forbidden("nobody decides their own appeal", code="own_appeal")
    row.appeal_note = _text(note, "note", 500)
    row.appeal_status = "accepted" if accept else "rejected"
    row.appeal_decided_by, row.appeal_decided_at = actor, now
    if accept:
        rating = session.get(Rating, row.rating_id, with_for_update=True)
        assert rating is not None
        rating.excluded = True
    _event(session, row, f"appeal_{row.appeal_status}", actor, now, note=row.appeal_note)
    if rules.export:
        from hall_ops.evaluation import export

        session.flush()
        export.rectification_changed(session, row, f"appeal-{row.appeal_status}", now)
    _maybe_close(session, rules, row, now)
    session.flush()
    return row


# ---------------------------------------------------------------- reading


def overdue_count(session: Session, today: dt.date) -> int:
    """Open rectifications past their deadline: an alert on the manager dashboard."""
    return int(session.scalar(
        select(func.count()).select_from(Rectification)
        .where(Rectification.status == "open", Rectification.due_on < today)
    ) or 0)


def _contact(session: Session, rating: Rating) -> tuple[str | None, str | None, str | None]:
    """(case number, name, phone) of the citizen to call back, if the hall knows them."""
    if rating.case_number:
        case = session.scalars(select(Case).where(Case.number == rating.case_number)).first()
    elif rating.ticket_id is not None:
        case = session.scalars(select(Case).where(Case.ticket_id == rating.ticket_id)
                               .order_by(Case.id)).first()
    else:
        case = None
    if case is not None:
        return case.number, case.applicant_name, case.applicant_phone
    if rating.ticket_id is not None:
        booked = session.scalars(select(Appointment).where(
            Appointment.ticket_id == rating.ticket_id)).first()
        if booked is not None:
            return None, booked.applicant_name, booked.phone
    return None, None, None


def view(session: Session, row: Rectification, today: dt.date, *,
         events: bool = False) -> dict[str, Any]:
    """A rectification for managers and its clerk: the citizen masked (``contact`` unmasks)."""
    rating = session.get(Rating, row.rating_id)
    assert rating is not None
    case_number, name, phone = _contact(session, rating)
    out: dict[str, Any] = {
        "id": row.id, "status": row.status, "owner": row.owner,
        "department": row.department_code, "window": row.window_number, "clerk": row.clerk_id,
        "opened_at": iso_utc(row.opened_at), "due_on": row.due_on.isoformat(),
        "overdue": row.status == "open" and today > row.due_on,
        "closed_on": row.closed_on.isoformat() if row.closed_on else None,
        "on_time": row.closed_on <= row.due_on if row.closed_on else None,
        "rating": {
            "id": rating.id, "subject": rating.subject, "level": rating.level,
            "level_code": level_code(rating.level), "tags": list(rating.tags or []),
            "comment": rating.comment, "follow_up": rating.follow_up,
            "channel": rating.channel, "at": iso_utc(rating.at), "item": rating.item_code,
            "service": rating.service_code, "excluded": rating.excluded,
        },
        "case_number": case_number,
        "citizen": {"name": mask_name(name) if name else None,
                    "phone": mask_phone(phone) if phone else None},
        "measures": row.measures, "rectified_at": iso_utc(row.rectified_at),
        "call_back": None if row.call_back_at is None else {
            "at": iso_utc(row.call_back_at), "by": row.call_back_by,
            "reached": bool(row.call_back_reached), "note": row.call_back_note},
        "answer": row.answer, "answered_at": iso_utc(row.answered_at),
        "appeal": {
            "status": row.appeal_status, "reason": row.appeal_reason,
            "evidence": row.appeal_evidence, "by": row.appealed_by,
            "at": iso_utc(row.appealed_at), "decided_by": row.appeal_decided_by,
            "decided_at": iso_utc(row.appeal_decided_at), "note": row.appeal_note,
        },
    }
    if events:
        out["events"] = [
            {"at": iso_utc(e.at), "kind": e.kind, "actor": e.actor, "detail": e.detail}
            for e in session.scalars(select(RectificationEvent).where(
                RectificationEvent.rectification_id == row.id).order_by(RectificationEvent.id))
        ]
    return out


def listing(session: Session, today: dt.date, *, status: str | None = None,
            clerk: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Open ones first, soonest due first; then the latest closed."""
    query = select(Rectification)
    if status is not None:
        query = query.where(Rectification.status == status)
    if clerk is not None:
        query = query.where(Rectification.clerk_id == clerk)
    rows = session.scalars(query.order_by(
        (Rectification.status == "closed"), Rectification.due_on, Rectification.id.desc()
    ).limit(limit)).all()
    return [view(session, row, today) for row in rows]


def contact(session: Session, rectification_id: int, actor: str,
            now: dt.datetime) -> dict[str, str | None]:
    """The citizen's name and phone unmasked, for the owner's call-back; the read is logged."""
    row = get(session, rectification_id)
    if row.owner is not None and row.owner != actor:
        raise Forbidden(f"rectification {row.id} belongs to {row.owner}", code="not_owner")
    rating = session.get(Rating, row.rating_id)
    assert rating is not None
    case_number, name, phone = _contact(session, rating)
    security_log.record(session, "personal_data_read", now, actor=actor,
                        subject=f"rectification:{row.id}", fields=["name", "phone"],
                        purpose="call_back", **({"case": case_number} if case_number else {}))
    return {"name": name, "phone": phone, "case_number": case_number}
