"""The figures of the 好差评 scheme over a range of hall days, per hall, department, window,
clerk or item (definitions in docs/evaluation.md):

* rating rate (主动评价率) — rated / finished: visits (served tickets) for the hall, windows
  and clerks; decided case items for departments and items;
* good-rating rate — 非常满意 + 满意 + 基本满意 among the ratings given in the range,
  leaving out ratings whose appeal was accepted (``excluded``, counted apart);
* rectified on time — rectifications closed by their deadline among those opened in the
  range that are closed or already past due (one still open and not yet due is not judged);
* call-back rate — rectifications called back among those opened in the range.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.cases.models import CaseItem
from hall_ops.clock import from_local
from hall_ops.evaluation.models import Rating, Rectification
from hall_ops.evaluation.ratings import GOOD_LEVELS, EvaluationRules
from hall_ops.queue.models import Ticket

GroupBy = Literal["hall", "department", "window", "clerk", "item"]
GROUPS: tuple[GroupBy, ...] = ("hall", "department", "window", "clerk", "item")


@dataclass
class FigureRow:
    key: str
    finished: int = 0
    rated: int = 0
    rating_rate: float | None = None
    ratings: int = 0
    good: int = 0
    bad: int = 0
    excluded: int = 0
    good_rate: float | None = None
    rectifications: int = 0
    judged: int = 0
    on_time: int = 0
    on_time_rate: float | None = None
    called_back: int = 0
    call_back_rate: float | None = None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _bounds(rules: EvaluationRules, first: dt.date, last: dt.date) -> tuple[dt.datetime, ...]:
    start = from_local(dt.datetime.combine(first, dt.time()), rules.timezone)
    end = from_local(dt.datetime.combine(last + dt.timedelta(days=1), dt.time()), rules.timezone)
    return start, end


def _key(group: GroupBy, hall: str) -> Callable[[Any], str | None]:
    """The group a rating (or anything with the same attribution fields) falls in."""
    def of(row: Any) -> str | None:
        value = {"hall": hall, "department": row.department_code, "window": row.window_number,
                 "clerk": row.clerk_id, "item": row.item_code}[group]
        return None if value is None else str(value)
    return of


def figures(session: Session, rules: EvaluationRules, first: dt.date, last: dt.date,
            group: GroupBy, today: dt.date) -> list[FigureRow]:
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}")
    start, end = _bounds(rules, first, last)
    rows: dict[str, FigureRow] = defaultdict(lambda: FigureRow(key=""))
    key = _key(group, rules.hall_code)

    def row(k: str) -> FigureRow:
        found = rows[k]
        found.key = k
        return found

    # finished and rated: visits for hall/window/clerk, decided items for department/item
    if group in ("hall", "window", "clerk"):
        visits = session.execute(
            select(Ticket.window_number, Ticket.clerk_id, Rating.id)
            .outerjoin(Rating, Rating.ticket_id == Ticket.id)
            .where(Ticket.status == "done", Ticket.day >= first, Ticket.day <= last)
        ).all()
        for window, clerk, rating_id in visits:
            k = {"hall": rules.hall_code, "window": window, "clerk": clerk}[group]
            if k is None:
                continue
            r = row(str(k))
            r.finished += 1
            r.rated += rating_id is not None
    else:
        items = session.execute(
            select(CaseItem.department_code, CaseItem.item_code, Rating.id)
            .outerjoin(Rating, Rating.case_item_id == CaseItem.id)
            .where(CaseItem.decided_at >= start, CaseItem.decided_at < end)
        ).all()
        for department, item, rating_id in items:
            r = row(department if group == "department" else item)
            r.finished += 1
            r.rated += rating_id is not None

    given: Iterable[Rating] = session.scalars(
        select(Rating).where(Rating.at >= start, Rating.at < end))
    for rating in given:
        k = key(rating)
        if k is None:
            continue
        r = row(k)
        if rating.excluded:
            r.excluded += 1
            continue
        r.ratings += 1
        r.good += rating.level in GOOD_LEVELS
        r.bad += rating.level not in GOOD_LEVELS

    opened = session.execute(
        select(Rectification, Rating).join(Rating, Rating.id == Rectification.rating_id)
        .where(Rectification.opened_at >= start, Rectification.opened_at < end)
    ).all()
    for rect, rating in opened:
        k = key(rating)
        if k is None:
            continue
        r = row(k)
        r.rectifications += 1
        r.called_back += rect.call_back_at is not None
        if rect.closed_on is not None or today > rect.due_on:
            r.judged += 1
            r.on_time += rect.closed_on is not None and rect.closed_on <= rect.due_on

    out = sorted(rows.values(), key=lambda r: (len(r.key), r.key) if group == "window"
                 else (r.key,))
    for r in out:
        r.rating_rate = _rate(r.rated, r.finished)
        r.good_rate = _rate(r.good, r.ratings)
        r.on_time_rate = _rate(r.on_time, r.judged)
        r.call_back_rate = _rate(r.called_back, r.rectifications)
    return out
