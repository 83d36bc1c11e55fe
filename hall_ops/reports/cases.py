"""What managers are judged on per case (../shared/HALL.md): trips, materials, time to decision.

Per department over a range of acceptance days: how many windows an
applicant visited per case (the "at most one trip" goal), how many paper
materials they handed in, and how items stood against their legal limits —
decided within the limit, working days used, still open and overdue.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hall_ops.cases.intake import IntakeRules
from hall_ops.cases.models import Case, CaseItem
from hall_ops.cases.time_limits import item_time_limit
from hall_ops.errors import InvalidInput
from hall_ops.reports.tickets import MAX_DAYS


@dataclass
class CaseRow:
    department: str
    department_name_zh: str
    cases: int
    items: int
    mean_windows_visited: float
    mean_materials_handed_in: float
    decided: int
    decided_within_limit: int
    mean_working_days_to_decision: float | None
    open_overdue: int


def case_report(
    session: Session, rules: IntakeRules, first_day: dt.date, last_day: dt.date, now: dt.datetime
) -> list[CaseRow]:
    if last_day < first_day or (last_day - first_day).days >= MAX_DAYS:
        raise InvalidInput(f"give a range of 1 to {MAX_DAYS} days, first day first",
                           code="invalid_range")
    cases = session.scalars(
        select(Case).where(Case.day >= first_day, Case.day <= last_day).options(
            selectinload(Case.items).selectinload(CaseItem.events),
            selectinload(Case.items).selectinload(CaseItem.extensions))
    ).all()
    by_department: dict[str, list[CaseItem]] = defaultdict(list)
    for case in cases:
        for item in case.items:
            by_department[item.department_code].append(item)
    rows = []
    for department, items in sorted(by_department.items()):
        department_cases = {item.case_id: item.case for item in items}.values()
        clocks = [(item, item_time_limit(rules, item, now)) for item in items]
        decided = [(i, c) for i, c in clocks if i.decided_at is not None]
        rows.append(CaseRow(
            department=department,
            department_name_zh=items[0].department_name_zh,
            cases=len(department_cases),
            items=len(items),
            mean_windows_visited=round(
                sum(c.windows_visited for c in department_cases) / len(department_cases), 2),
            mean_materials_handed_in=round(
                sum(c.materials_handed_in for c in department_cases) / len(department_cases), 2),
            decided=len(decided),
            decided_within_limit=sum(1 for _, c in decided if not c.overdue),
            mean_working_days_to_decision=round(
                sum(c.used_days for _, c in decided) / len(decided), 1) if decided else None,
            open_overdue=sum(1 for i, c in clocks if i.decided_at is None and c.overdue),
        ))
    return rows
