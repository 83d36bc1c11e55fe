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
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import case, func, select
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


def _rating_key(group: GroupBy) -> Any:
    """The column a rating (and so its rectification) is grouped by; None for the hall."""
    return {"hall": None, "department": Rating.department_code,
            "window": Rating.window_number, "clerk": Rating.clerk_id,
            "item": Rating.item_code}[group]


def _grouped(session: Session, key: Any, columns: list[Any], where: list[Any],
             joins: list[tuple[Any, Any]], base: Any) -> list[tuple[Any, ...]]:
    """``columns`` aggregated per ``key`` (one row for the whole hall when key is None)."""
    query = select(*([key] if key is not None else []), *columns).select_from(base)
    for table, on in joins:
        query = query.outerjoin(table, on)
    query = query.where(*where)
    if key is not None:
        query = query.group_by(key).having(key.is_not(None))
    rows = session.execute(query).all()
    return [tuple(row) if key is not None else (None, *row) for row in rows]


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _given_columns() -> list[Any]:
    """Ratings excluded (their appeal accepted), then good and bad among the others."""
    counted = Rating.excluded.is_(False)
    return [_count(Rating.excluded.is_(True)),
            _count(counted & Rating.level.in_(sorted(GOOD_LEVELS))),
            _count(counted & Rating.level.not_in(sorted(GOOD_LEVELS)))]


def ratings_given(session: Session, rules: EvaluationRules, first: dt.date,
                  last: dt.date) -> FigureRow:
    """The whole hall's ratings given in the range and their good rate, as ``figures``
    counts them, without the visits and rectifications behind its other figures: the
    regional overview reads this for every hall on every refresh (one indexed query)."""
    start, end = _bounds(rules, first, last)
    excluded, good, bad = session.execute(
        select(*_given_columns()).where(Rating.at >= start, Rating.at < end)).one()
    row = FigureRow(key=rules.hall_code, ratings=int(good) + int(bad), good=int(good),
                    bad=int(bad), excluded=int(excluded))
    row.good_rate = _rate(row.good, row.ratings)
    return row


def figures(session: Session, rules: EvaluationRules, first: dt.date, last: dt.date,
            group: GroupBy, today: dt.date) -> list[FigureRow]:
    """Counted in the database (GROUP BY), so a month of a busy hall stays quick."""
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}")
    start, end = _bounds(rules, first, last)
    rows: dict[str, FigureRow] = {}

    def row(value: Any) -> FigureRow:
        k = rules.hall_code if value is None else str(value)
        return rows.setdefault(k, FigureRow(key=k))

    # finished and rated: visits for hall/window/clerk, decided items for department/item
    if group in ("hall", "window", "clerk"):
        key = {"hall": None, "window": Ticket.window_number, "clerk": Ticket.clerk_id}[group]
        done = _grouped(session, key, [func.count(Ticket.id), func.count(Rating.id)],
                        [Ticket.status == "done", Ticket.day >= first, Ticket.day <= last],
                        [(Rating, Rating.ticket_id == Ticket.id)], Ticket)
    else:
        key = CaseItem.department_code if group == "department" else CaseItem.item_code
        done = _grouped(session, key, [func.count(CaseItem.id), func.count(Rating.id)],
                        [CaseItem.decided_at >= start, CaseItem.decided_at < end],
                        [(Rating, Rating.case_item_id == CaseItem.id)], CaseItem)
    for value, finished, rated in done:
        if finished:
            r = row(value)
            r.finished, r.rated = int(finished), int(rated)

    given = _grouped(session, _rating_key(group), _given_columns(),
                     [Rating.at >= start, Rating.at < end], [], Rating)
    for value, excluded, good, bad in given:
        if excluded or good or bad:
            r = row(value)
            r.excluded, r.good, r.bad = int(excluded), int(good), int(bad)
            r.ratings = r.good + r.bad

    closed_in_time = Rectification.closed_on.is_not(None) & (
        Rectification.closed_on <= Rectification.due_on)
    opened = _grouped(session, _rating_key(group), [
        func.count(Rectification.id),
        func.count(Rectification.call_back_at),
        _count(Rectification.closed_on.is_not(None) | (Rectification.due_on < today)),
        _count(closed_in_time),
    ], [Rectification.opened_at >= start, Rectification.opened_at < end],
        [(Rating, Rating.id == Rectification.rating_id)], Rectification)
    for value, count, called, judged, on_time in opened:
        if count:
            r = row(value)
            r.rectifications, r.called_back = int(count), int(called)
            r.judged, r.on_time = int(judged), int(on_time)

    out = sorted(rows.values(), key=lambda r: (len(r.key), r.key) if group == "window"
                 else (r.key,))
    for r in out:
        r.rating_rate = _rate(r.rated, r.finished)
        r.good_rate = _rate(r.good, r.ratings)
        r.on_time_rate = _rate(r.on_time, r.judged)
        r.call_back_rate = _rate(r.called_back, r.rectifications)
    return out
