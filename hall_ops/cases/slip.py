"""The routing slip (流转单): one view of a case that travels with it instead of copies for
every department; the applicant's identity masked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from hall_ops.cases.identity import masked_applicant
from hall_ops.cases.intake import IntakeRules, get_case
from hall_ops.cases.time_limits import item_time_limit
from hall_ops.cases.views import clock_view, material_view
from hall_ops.clock import hall_day, iso_utc
from hall_ops.licences.library import licence_by_material


def routing_slip(
    session: Session, case_number: str, *, rules: IntakeRules, now: dt.datetime
) -> dict[str, Any]:
    """What the printed routing slip (流转单) shows; it travels with the case instead of
    copies for every department. The applicant's identity is masked: the slip is paper."""
    case = get_case(session, case_number)
    today = hall_day(now, rules.timezone)
    departments: dict[str, dict[str, Any]] = {}
    for item in case.items:
        entry = departments.setdefault(
            item.department_code,
            {"code": item.department_code, "name_zh": item.department_name_zh,
             "name_en": item.item.department_name_en or item.department_name_zh, "items": []},
        )
        entry["items"].append(item.item_code)
    required_per_item = sum(len(i.materials) for i in case.items)
    licences = licence_by_material(session, case.id)
    return {
        "case_number": case.number,
        "accepted_at": iso_utc(case.accepted_at),
        "accepted_on": case.day.isoformat(),
        "window": case.window_number,
        "clerk": case.clerk_id,
        "applicant": masked_applicant({
            "kind": case.applicant_kind,
            "name": case.applicant_name,
            "id_number": case.applicant_id_number,
            "phone": case.applicant_phone,
        }),
        "items": [
            {
                "code": item.item_code,
                "name_zh": item.item.name_zh,
                "name_en": item.item.name_en,
                "department": {
                    "code": item.department_code, "name_zh": item.department_name_zh,
                    "name_en": item.item.department_name_en or item.department_name_zh,
                },
                "status": item.status,
                "materials": [m.name_zh for m in item.materials],
                **clock_view(item_time_limit(rules, item, now)),
            }
            for item in case.items
        ],
        "departments": list(departments.values()),
        "materials_received": [
            {**material_view(m), "licence": licences.get(m.id)}
            for m in case.materials if not m.missing
        ],
        "materials_missing": [
            {**material_view(m), "overdue": m.due_on is not None and today > m.due_on}
            for m in case.materials
            if m.missing
        ],
        "windows_visited": case.windows_visited,
        "materials_handed_in": case.materials_handed_in,
        "materials_saved_by_sharing": required_per_item - len(case.materials),
    }
