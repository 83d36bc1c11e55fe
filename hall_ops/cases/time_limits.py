"""Time limits of case items in working days (supplement pauses stop the clock, granted
extensions lengthen the limit), the supervision card's colour, and the watch that finds
items at the warning share of their limit or overdue."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hall_ops.cases.calendar import (
    Pause,
    TimeLimitStatus,
)
from hall_ops.cases.intake import OPEN_STATUSES, IntakeRules
from hall_ops.cases.models import (
    CaseItem,
)
from hall_ops.cases.views import clock_view
from hall_ops.clock import hall_day


def item_pauses(item: CaseItem, tz: ZoneInfo) -> list[Pause]:
    """Supplement pauses of an item, as hall-local days, read back from its history."""
    pauses: list[Pause] = []
    started: dt.date | None = None
    for event in item.events:
        if event.to_status == "supplement_requested":
            started = hall_day(event.at, tz)
        elif event.from_status == "supplement_requested" and started is not None:
            pauses.append((started, hall_day(event.at, tz)))
            started = None
    if started is not None:
        pauses.append((started, None))
    return pauses


def limit_days(item: CaseItem) -> int:
    """The catalogue's limit copied at intake plus every extension granted since."""
    return item.time_limit_days + sum(e.days for e in item.extensions)


def item_time_limit(rules: IntakeRules, item: CaseItem, now: dt.datetime) -> TimeLimitStatus:
    """The item against its legal limit; a decided item is measured on its decision day."""
    end = hall_day(item.decided_at or now, rules.timezone)
    return rules.calendar.status(
        item.case.day, limit_days(item), end, item_pauses(item, rules.timezone),
        warn_at=rules.warn_at,
    )


def card_colour(clock: TimeLimitStatus) -> str:
    """Electronic supervision's card (电子监察): red overdue, yellow at the warning share of
    the limit, green before."""
    return "red" if clock.overdue else "yellow" if clock.warning else "green"


def deadline_watch(session: Session, rules: IntakeRules, now: dt.datetime) -> list[dict[str, Any]]:
    """Undecided items near (warning) or past (overdue) their limit, most urgent first.

    Supervision "during the case": the list a manager intervenes from.
    """
    items = session.scalars(
        select(CaseItem)
        .where(CaseItem.status.in_(OPEN_STATUSES))
        .options(selectinload(CaseItem.events), selectinload(CaseItem.case),
                 selectinload(CaseItem.item), selectinload(CaseItem.extensions))
    ).all()
    watched = []
    for item in items:
        clock = item_time_limit(rules, item, now)
        if clock.warning or clock.overdue:
            watched.append(
                {
                    "case_number": item.case.number,
                    "item": item.item_code,
                    "name_zh": item.item.name_zh,
                    "department": {
                        "code": item.department_code, "name_zh": item.department_name_zh
                    },
                    "status": item.status,
                    **clock_view(clock),
                }
            )
    watched.sort(key=lambda w: (-w["fraction_used"], w["case_number"], w["item"]))
    return watched
