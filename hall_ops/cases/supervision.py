"""Electronic supervision (电子监察): every case item's card, its history, and extensions.

The colour comes from ``time_limits.card_colour`` over ``item_time_limit`` (pauses for a
supplement and granted extensions included): one rule, used here and by the deadline
watch. Only the deadline job (:func:`supervise`, run by the scheduler's leader) records a
colour change, so the history has one writer and one clock. A yellow or red card is
cleared by whoever removed its cause: the approver who decided the item, or the approver
or manager who extended its limit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from hall_ops.cases.intake import OPEN_STATUSES, IntakeRules
from hall_ops.cases.models import CardEvent, Case, CaseItem, CaseItemExtension
from hall_ops.cases.time_limits import card_colour, item_time_limit, limit_days
from hall_ops.cases.views import clock_view
from hall_ops.clock import iso_utc
from hall_ops.errors import Conflict, InvalidInput, NotFound

RANK = {"green": 0, "yellow": 1, "red": 2}
MAX_EXTENSION_DAYS = 60
"""Working days one extension may add: a longer delay is a new decision, not an extension."""
CLEARED_SHOWN = 200
"""Cleared cards the supervision page lists (newest first) besides every open item's."""


def _items(session: Session, *conditions: Any, newest: int | None = None) -> list[CaseItem]:
    """Items with what a card needs; ``newest``: only that many, last decided first."""
    query = (
        select(CaseItem).join(Case, Case.id == CaseItem.case_id).where(*conditions)
        .options(selectinload(CaseItem.events), selectinload(CaseItem.case),
                 selectinload(CaseItem.item), selectinload(CaseItem.extensions),
                 selectinload(CaseItem.card_events))
    )
    if newest is None:
        query = query.order_by(CaseItem.id)
    else:
        query = query.order_by(CaseItem.decided_at.desc(), CaseItem.id.desc()).limit(newest)
    return list(session.scalars(query).all())


def _cause(item: CaseItem, colour: str, now: dt.datetime) -> tuple[str, str | None, dt.datetime]:
    """Why the card changed, who did it, and when."""
    if colour == "cleared":
        decided = [e for e in item.events if e.to_status in ("approved", "rejected")]
        last = decided[-1] if decided else None
        return "finished", last.actor if last else None, item.decided_at or now
    if RANK[colour] < RANK[item.card]:
        since = item.card_events[-1].at if item.card_events else None
        granted = [e for e in item.extensions if since is None or e.at >= since]
        if granted:
            return "extended", granted[-1].actor, granted[-1].at
    return "time", None, now


def supervise(session: Session, rules: IntakeRules, now: dt.datetime) -> list[CardEvent]:
    """The deadline job: record every card whose colour changed since the last run.

    Open items are measured now; a yellow or red card whose item was decided is cleared.
    """
    changed = []
    for item in _items(session, or_(CaseItem.status.in_(OPEN_STATUSES),
                                    CaseItem.card.in_(("yellow", "red")))):
        if item.status in OPEN_STATUSES:
            colour = card_colour(item_time_limit(rules, item, now))
        else:
            colour = "cleared"
        if colour == item.card:
            continue
        cause, actor, at = _cause(item, colour, now)
        event = CardEvent(case_item_id=item.id, at=at, from_colour=item.card,
                          to_colour=colour, cause=cause, actor=actor)
        session.add(event)
        item.card = colour
        changed.append(event)
    session.flush()
    return changed


def extend_limit(
    session: Session, department: str, item_id: int, days: int, reason: str, actor: str,
    now: dt.datetime,
) -> CaseItemExtension:
    """Lengthen an open item's limit by ``days`` working days, with the reason (延期审批).
    The card follows at the deadline job's next run, cleared in ``actor``'s name."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("an extension needs a reason", code="reason_required")
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise InvalidInput(f"extend by 1 to {MAX_EXTENSION_DAYS} working days",
                           code="invalid_days")
    item = session.scalars(
        select(CaseItem).where(CaseItem.id == item_id).with_for_update()
    ).first()
    if item is None or item.department_code != department:
        raise NotFound(f"department {department} has no case item {item_id}",
                       code="unknown_case_item")
    if item.status not in OPEN_STATUSES:
        raise Conflict(f"case item {item_id} is {item.status}: its limit no longer runs",
                       code="item_decided")
    extension = CaseItemExtension(case_item_id=item.id, at=now, days=days, reason=reason,
                                  actor=actor, origin=session.info.get("origin"))
    session.add(extension)
    session.flush()
    session.expire(item, ["extensions"])
    return extension


def _card(rules: IntakeRules, item: CaseItem, now: dt.datetime) -> dict[str, Any]:
    clock = item_time_limit(rules, item, now)
    return {
        "item_id": item.id,
        "case_number": item.case.number,
        "item": item.item_code,
        "name_zh": item.item.name_zh,
        "name_en": item.item.name_en,
        "department": item.department_code,
        "department_name_zh": item.department_name_zh,
        "clerk": item.case.clerk_id,
        "status": item.status,
        "card": item.card,
        **clock_view(clock),
        "catalogue_limit_days": item.time_limit_days,
        "extended_days": limit_days(item) - item.time_limit_days,
        "extensions": [
            {"at": iso_utc(e.at), "days": e.days, "reason": e.reason, "by": e.actor}
            for e in item.extensions
        ],
        "history": [
            {"at": iso_utc(e.at), "from": e.from_colour, "to": e.to_colour, "cause": e.cause,
             "by": e.actor}
            for e in item.card_events
        ],
    }


def supervision_view(
    session: Session, rules: IntakeRules, now: dt.datetime, *,
    departments: set[str] | None = None, department: str | None = None,
    clerk: str | None = None,
) -> dict[str, Any]:
    """The cards of open items (red first) and recently cleared ones, with counts per
    department and per clerk. ``departments`` limits what an approver sees; the card
    colour is the one the deadline job recorded, the clock figures are as of ``now``."""
    conditions: list[Any] = []
    if departments is not None:
        conditions.append(CaseItem.department_code.in_(sorted(departments)))
    if department is not None:
        conditions.append(CaseItem.department_code == department)
    open_items = _items(session, CaseItem.status.in_(OPEN_STATUSES), *conditions)
    if clerk is not None:
        conditions.append(Case.clerk_id == clerk)
    cleared = _items(session, CaseItem.card == "cleared", *conditions,
                     newest=CLEARED_SHOWN)
    summary: dict[str, dict[str, dict[str, int]]] = {"departments": {}, "clerks": {}}
    for item in open_items:
        for key, value in (("departments", item.department_code), ("clerks", item.case.clerk_id)):
            counts = summary[key].setdefault(value, {"green": 0, "yellow": 0, "red": 0})
            counts[item.card] = counts.get(item.card, 0) + 1
    if clerk is not None:
        open_items = [i for i in open_items if i.case.clerk_id == clerk]
    cards = [_card(rules, i, now) for i in open_items]
    cards.sort(key=lambda c: (-RANK.get(c["card"], 0), -c["fraction_used"], c["case_number"]))
    return {
        "at": iso_utc(now),
        "department": department,
        "clerk": clerk,
        "summary": summary,
        "cards": cards,
        "cleared": [_card(rules, i, now) for i in cleared],
    }

