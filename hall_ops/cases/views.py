"""Small views of case parts shared by the routing slip, the hand-off payload and the watch."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hall_ops.cases.calendar import TimeLimitStatus
from hall_ops.cases.models import CaseMaterial


def material_view(m: CaseMaterial) -> dict[str, Any]:
    return {
        "id": m.id,
        "name_zh": m.name_zh,
        "name_en": m.name_en,
        "key": m.key,
        "copies": m.copies,
        "status": "missing" if m.missing else "received",
        "source": m.source,
        "due_on": date_text(m.due_on) if m.missing else None,
        "items": [i.item_code for i in m.items],
    }


def clock_view(clock: TimeLimitStatus) -> dict[str, Any]:
    return {
        "time_limit_days": clock.limit_days,
        "used_days": clock.used_days,
        "deadline": date_text(clock.deadline),
        "fraction_used": round(clock.fraction_used, 3),
        "paused": clock.paused,
        "warning": clock.warning,
        "overdue": clock.overdue,
    }


def date_text(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None
