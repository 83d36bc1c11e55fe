"""Electronic supervision and the tamper-evident record at the edge.

``/supervision`` (page) and ``GET /api/v1/supervision``: every case item's card (green,
yellow, red as the deadline job recorded it; cleared ones with who cleared them), per
department and per clerk; managers see every department, approvers their own.
``POST /api/v1/supervision/<department>/items/<id>/extensions``: an approver of the
department or a manager extends a limit, with a reason (chained, under their login).
``GET /api/v1/audit/roots``: the daily root hashes as a JSON file (managers).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request
from pydantic import ValidationError

from hall_ops.audit.roots import export
from hall_ops.cases.supervision import extend_limit, supervision_view
from hall_ops.clock import iso_utc
from hall_web.access import access, current_staff
from hall_web.api import answers, api
from hall_web.context import current_hall
from hall_web.request_helpers import actor, write
from hall_web.schemas.supervision import (
    Extended,
    ExtensionBody,
    RootsExport,
    Supervision,
    SupervisionQuery,
)

bp = Blueprint("supervision", __name__)


@bp.app_template_filter("hall_time")
def hall_time(moment: str) -> str:
    """An ISO 8601 moment as the hall's local time, to the minute (pages)."""
    local = dt.datetime.fromisoformat(moment).astimezone(current_hall().config.timezone)
    return local.strftime("%Y-%m-%d %H:%M")


def _visible() -> set[str] | None:
    """Departments the caller may supervise: None for a manager (all)."""
    user = current_staff()
    if user is None:
        abort(401)
    if user.has_role("manager"):
        return None
    return set(user.departments())


def _view(query: SupervisionQuery) -> dict[str, Any]:
    hall = current_hall()
    with hall.db.read() as s:
        return supervision_view(s, hall.config.intake_rules, hall.clock(),
                                departments=_visible(),
                                department=query.department, clerk=query.clerk)


@bp.get("/supervision")
@access("approver", department_arg="department", also=("manager",))
def supervision_page() -> str:
    try:
        query = SupervisionQuery.model_validate(request.args.to_dict())
    except ValidationError:
        abort(400)
    view = _view(query)
    user = current_staff()
    return render_template("supervision.html", view=view,
                           may_extend=user is not None and (
                               user.has_role("manager") or bool(user.departments())))


@bp.get("/api/v1/supervision")
@access("approver", department_arg="department", also=("manager",))
@api.validate(query=SupervisionQuery, resp=answers(HTTP_200=Supervision))
def supervision_api(query: SupervisionQuery) -> Any:
    return jsonify(_view(query))


@bp.post("/api/v1/supervision/<department>/items/<int:item_id>/extensions")
@access("approver", department_arg="department", also=("manager",))
@api.validate(json=ExtensionBody, resp=answers(HTTP_201=Extended, errors=(404, 409)))
def extend(department: str, item_id: int, json: ExtensionBody) -> Any:
    """Lengthen an open item's limit; the card is cleared at the deadline job's next run."""
    hall = current_hall()
    with write() as s:
        extension = extend_limit(s, department, item_id, json.days, json.reason, actor(),
                                 hall.clock())
        body = {"item_id": item_id, "extension": {
            "at": iso_utc(extension.at), "days": extension.days, "reason": extension.reason,
            "by": extension.actor}}
    return jsonify(body), 201


@bp.get("/api/v1/audit/roots")
@access("manager")
@api.validate(resp=answers(HTTP_200=RootsExport))
def audit_roots() -> Any:
    """Every daily root with the heads it covers, as a file to keep outside the database
    (``python -m hall_web audit verify --roots FILE`` compares the database with it)."""
    hall = current_hall()
    with hall.db.read() as s:
        body = export(s, hall.clock())
    response: Response = jsonify(body)
    response.headers["Content-Disposition"] = "attachment; filename=audit-roots.json"
    return response
