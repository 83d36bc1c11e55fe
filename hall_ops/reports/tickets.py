"""Reports managers are judged on: tickets, waits, service times, no-shows.

Figures are computed from the tickets themselves (one pass in Python over a
date range), so a report always agrees with the ticket history. Wait is take
→ call; service time is start → finish.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.clock import to_local
from hall_ops.config import HallConfig
from hall_ops.errors import InvalidInput
from hall_ops.queue.models import Ticket

GROUPINGS = ("day", "hour", "service", "window", "clerk")
MAX_DAYS = 366


@dataclass
class ReportRow:
    key: str
    tickets: int
    served: int
    no_shows: int
    cancelled: int
    wait_mean_minutes: float | None
    wait_p90_minutes: float | None
    service_mean_minutes: float | None


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile: the value below which ``fraction`` of values lie."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _key(ticket: Ticket, group_by: str, hall: HallConfig) -> str | None:
    if group_by == "day":
        return ticket.day.isoformat()
    if group_by == "hour":
        return f"{to_local(ticket.taken_at, hall.timezone).hour:02d}:00"
    if group_by == "service":
        return ticket.service_code
    if group_by == "window":
        return str(ticket.window_number) if ticket.window_number else None
    return ticket.clerk_id


def ticket_report(
    session: Session, hall: HallConfig, first_day: dt.date, last_day: dt.date, group_by: str
) -> list[ReportRow]:
    if group_by not in GROUPINGS:
        raise InvalidInput(f"group_by must be one of {', '.join(GROUPINGS)}", code="invalid_group")
    if last_day < first_day:
        raise InvalidInput("the last day is before the first", code="invalid_range")
    if (last_day - first_day).days >= MAX_DAYS:
        raise InvalidInput(f"at most {MAX_DAYS} days per report", code="invalid_range")
    tickets = session.scalars(
        select(Ticket).where(Ticket.day >= first_day, Ticket.day <= last_day)
    ).all()
    groups: dict[str, list[Ticket]] = defaultdict(list)
    for ticket in tickets:
        key = _key(ticket, group_by, hall)
        if key is not None:
            groups[key].append(ticket)
    return [_row(key, groups[key]) for key in sorted(groups, key=_sort_key)]


def _sort_key(key: str) -> tuple[int, str]:
    return (0, f"{int(key):06d}") if key.isdigit() else (1, key)


def _row(key: str, tickets: Iterable[Ticket]) -> ReportRow:
    tickets = list(tickets)
    waits = [
        (t.called_at - t.taken_at).total_seconds() / 60 for t in tickets if t.called_at is not None
    ]
    services = [
        (t.finished_at - t.started_at).total_seconds() / 60
        for t in tickets
        if t.status == "done" and t.started_at and t.finished_at
    ]
    return ReportRow(
        key=key,
        tickets=len(tickets),
        served=sum(1 for t in tickets if t.status == "done"),
        no_shows=sum(1 for t in tickets if t.status == "no_show"),
        cancelled=sum(1 for t in tickets if t.status == "cancelled"),
        wait_mean_minutes=_round(_mean(waits)),
        wait_p90_minutes=_round(percentile(waits, 0.9)),
        service_mean_minutes=_round(_mean(services)),
    )


def report_csv(kind: type, rows: Sequence[Any], first_column: str | None = None) -> str:
    """Rows of the report dataclass ``kind`` as CSV; ``first_column`` renames the first field."""
    out = io.StringIO()
    fields = [f.name for f in dataclasses.fields(kind)]
    names = [first_column or fields[0], *fields[1:]]
    writer = csv.writer(out)
    writer.writerow(names)
    for row in rows:
        writer.writerow(asdict(row).values())
    return out.getvalue()
