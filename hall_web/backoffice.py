"""Back office: departments' approvers claim, approve, reject or ask for a supplement
in the built-in console; departments with their own system report back on the signed
approval callback.

Only approvers of a department see its console, and its lists show applicants masked;
opening one case shows it unmasked, and that read is logged. The approver named in the
audit trail is the one logged in. The callback needs no login: its signature, fresh and
never seen before, is the proof.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.cases.approval import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    console_act,
    console_queue,
    console_view,
    remember_callback,
    verify_callback,
)
from hall_ops.cases.catalogue import ServiceItem
from hall_ops.cases.delivery import record_if_ready
from hall_ops.cases.identity import masked_applicant
from hall_ops.cases.intake import (
    get_case,
    set_item_status,
)
from hall_ops.cases.models import Case, CaseMaterial, ConsoleCase
from hall_ops.errors import NotFound, Unauthorized
from hall_web.access import access, current_staff, require_department
from hall_web.api import answers, api, parse
from hall_web.auth import record_unmasked_read
from hall_web.context import current_hall
from hall_web.request_helpers import actor, write
from hall_web.schemas.backoffice import (
    Callback,
    CallbackAnswer,
    ConsoleAction,
    ConsoleCaseView,
    ConsoleQueue,
)

bp = Blueprint("backoffice", __name__)


def departments() -> list[dict[str, str]]:
    """Departments of the active catalogue, in catalogue order: who has a back-office console."""
    with current_hall().db.read() as s:
        rows = s.execute(
            select(ServiceItem.department_code, ServiceItem.department_name_zh)
            .where(ServiceItem.active.is_(True))
            .order_by(ServiceItem.position)
        ).all()
    seen: dict[str, str] = {}
    for code, name_zh in rows:
        seen.setdefault(code, name_zh)
    return [{"code": code, "name_zh": name_zh} for code, name_zh in seen.items()]


@bp.get("/backoffice")
@access("approver", department_arg="department")
def backoffice() -> str:
    user = current_staff()
    mine = user.departments() if user is not None else frozenset()
    known = [d for d in departments() if d["code"] in mine]
    chosen = request.args.get("department")
    if chosen is not None and chosen not in {d["code"] for d in known}:
        abort(404)
    return render_template("backoffice.html", departments=known, department=chosen)


def _department(s: Session, code: str) -> str:
    found = s.scalars(
        select(ServiceItem.department_code).where(ServiceItem.department_code == code).limit(1)
    ).first()
    if found is None:
        raise NotFound(f"no department {code!r} in the catalogue", code="unknown_department")
    return found


@bp.get("/api/v1/backoffice/<department>/cases")
@access("approver", department_arg="department")
@api.validate(resp=answers(HTTP_200=ConsoleQueue, errors=(404,)))
def backoffice_cases(department: str) -> Any:
    """The department's console queue: hand-offs delivered to the built-in console.

    Each case's materials are as they are now, not as handed off: an approver
    waiting for a supplement sees it has arrived. Applicants are masked here:
    ``GET /api/v1/backoffice/cases/<id>`` opens one (and logs it).
    """
    with current_hall().db.read() as s:
        _department(s, department)
        cases = console_queue(s, department)
        rows = s.execute(
            select(Case.number, CaseMaterial)
            .join(CaseMaterial, CaseMaterial.case_id == Case.id)
            .where(Case.number.in_({c["case_number"] for c in cases}))
        ).all()
        current = {(number, m.name_zh): m for number, m in rows}
        for c in cases:
            c["applicant"] = masked_applicant(c["applicant"])
            for material in c["materials"]:
                row = current.get((c["case_number"], material["name_zh"]))
                if row is not None:
                    material.update(
                        status="missing" if row.missing else "received",
                        source=row.source,
                        due_on=row.due_on.isoformat() if row.missing and row.due_on else None,
                    )
        return jsonify(department=department, cases=cases)


def _console_case(s: Session, case_id: int) -> ConsoleCase:
    """A console case of one of this approver's departments (403 for another's)."""
    row = s.get(ConsoleCase, case_id)
    if row is None:
        raise NotFound(f"no console case {case_id}", code="unknown_console_case")
    require_department(row.department)
    return row


@bp.get("/api/v1/backoffice/cases/<int:case_id>")
@access("approver")
@api.validate(resp=answers(HTTP_200=ConsoleCaseView, errors=(404,)))
def backoffice_case(case_id: int) -> Any:
    """One console case opened by an approver of its department: the applicant unmasked,
    and the read in the security log (who, when, which case)."""
    with current_hall().db.read() as s:
        view = console_view(_console_case(s, case_id))
    record_unmasked_read(view["case_number"], purpose="back office")
    return jsonify(view)


@bp.post("/api/v1/backoffice/cases/<int:case_id>/<any(claim, approve, reject, supplement):action>")
@access("approver")
@api.validate(resp=answers(HTTP_200=ConsoleCaseView, errors=(401, 403, 404, 409)))
def backoffice_act(case_id: int, action: str, json: ConsoleAction) -> Any:
    """Claim, approve, reject or ask for a supplement; the department's case items follow.
    A rejection or a supplement request needs a ``reason`` (the applicant is told why).
    The approver is the one logged in."""
    with write() as s:
        _console_case(s, case_id)
        row = console_act(s, case_id, action, actor(), current_hall().clock(), json.reason,
                          confirm_gaps=bool(json.confirm_gaps))
        view = console_view(row)
    return jsonify({**view, "applicant": masked_applicant(view["applicant"])})


@bp.post("/api/v1/approval/callback")
@access("public")
@api.validate(json=Callback, skip_validation=True,
              resp=answers(HTTP_200=CallbackAnswer, errors=(401, 404, 409)))
def approval_callback() -> Any:
    """A department's own system reports an item's new status.

    Body: ``{"department", "case_number", "item", "status", "actor"?, "reason"?}``,
    signed like the hand-off (``X-Hall-Signature`` over ``timestamp.body``
    with the department's webhook secret). Nothing is read from an unsigned
    body but the department whose secret checks it. A signature already seen is
    refused (409 ``replayed_callback``) and changes nothing, so a captured callback
    cannot be played again; a retry signs afresh, and a repeat of a status the item
    already has is answered ``unchanged``. The actor in the audit trail is the
    department's system (``actor`` in the signed body, else the department).
    """
    hall = current_hall()
    raw = request.get_data(cache=True)
    try:
        data = current_app.json.loads(raw)
    except ValueError:
        data = None
    department = data.get("department") if isinstance(data, dict) else None
    secret = (
        current_hall().approval_backends.secrets.get(department)
        if isinstance(department, str)
        else None
    )
    if not isinstance(data, dict) or secret is None or not verify_callback(
        secret, raw, request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER),
        hall.clock(),
    ):
        raise Unauthorized("callback signature missing, stale or wrong", code="bad_signature")
    body: Callback = parse(Callback, data)
    case_number, item_code, status = body.case_number, body.item, body.status
    actor, reason = body.actor or department, body.reason
    with write() as s:
        remember_callback(s, str(department), request.headers[SIGNATURE_HEADER],
                          request.headers[TIMESTAMP_HEADER], hall.clock())
        case = get_case(s, case_number)
        item = next(
            (i for i in case.items if i.item_code == item_code and i.department_code == department),
            None,
        )
        if item is None:
            raise NotFound(
                f"case {case_number} has no item {item_code} of department {department}",
                code="unknown_case_item",
            )
        unchanged = item.status == status
        if not unchanged:
            set_item_status(s, case_number, item_code, status, str(actor), reason,
                            now=hall.clock())
            record_if_ready(s, case, hall.clock())
    return jsonify(case_number=case_number, item=item_code, status=status, unchanged=unchanged)
