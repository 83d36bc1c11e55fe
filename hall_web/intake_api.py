"""JSON API of one-window intake, hand-off and approval (``/api/v1``): a thin edge over
``hall_ops.intake``, ``hall_ops.catalogue`` and ``hall_ops.handoff``.

Each view validates its input, runs the domain in one write transaction and
only after the commit tells the screens. The applicant's identity leaves this
edge unmasked only to the clerk who accepted the case.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request, session, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall_ops import handoff
from hall_ops.approval import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Backends,
    backends_from_config,
    console_act,
    console_queue,
    console_view,
    verify_callback,
)
from hall_ops.catalogue import ServiceItem, items_for_service, service_guide
from hall_ops.errors import Conflict, InvalidInput, NotFound, Unauthorized
from hall_ops.handoff_models import MESSAGE_STATUSES, HandoffMessage
from hall_ops.intake import (
    Applicant,
    IntakeRules,
    create_intake,
    get_case,
    record_supplement,
    routing_slip,
    set_item_status,
)
from hall_ops.intake_models import Case, CaseMaterial
from hall_ops.models import Ticket, Window
from hall_web.api import _body, _clerk_at, _field, _write
from hall_web.context import current_hall

bp = Blueprint("intake_api", __name__, url_prefix="/api/v1")

MAX_LIST = 100
"""Items or materials in one request: a catalogue item has a handful, a case a few items."""


def _rules() -> IntakeRules:
    return IntakeRules.from_config(current_hall().config)


def _names(data: dict[str, Any], name: str, *, required: bool = False) -> list[str]:
    """A list of short strings (item codes, material names); absent = empty unless required."""
    value = data.get(name)
    if value is None:
        if required:
            raise InvalidInput(f"'{name}' is required", code="missing_field", field=name)
        return []
    if (
        not isinstance(value, list)
        or len(value) > MAX_LIST
        or not all(isinstance(v, str) and 0 < len(v) <= 200 for v in value)
    ):
        raise InvalidInput(
            f"'{name}' must be a list of names", code="invalid_field", field=name
        )
    return value


# ---------------------------------------------------------------- catalogue


@bp.get("/services/<code>/items")
def service_items(code: str) -> Any:
    with current_hall().db.read() as s:
        return jsonify(service=code, items=items_for_service(s, code))


@bp.get("/items/<code>/guide")
def item_guide(code: str) -> Any:
    with current_hall().db.read() as s:
        return jsonify(service_guide(s, code))


# ---------------------------------------------------------------- intake


def _applicant(data: dict[str, Any]) -> Applicant:
    raw = data.get("applicant")
    if not isinstance(raw, dict):
        raise InvalidInput(
            "'applicant' must be an object {kind, name, id_number, phone}",
            code="missing_field" if raw is None else "invalid_field",
            field="applicant",
        )
    return Applicant(
        kind=_field(raw, "kind", str),
        name=_field(raw, "name", str),
        id_number=_field(raw, "id_number", str),
        phone=_field(raw, "phone", str),
    )


@bp.post("/windows/<int:number>/intake")
def intake(number: int) -> Any:
    """Accept items for the ticket being served at window ``number`` by this session's clerk.

    ``ticket`` (optional): the ticket number the clerk's page shows; if the
    window has moved on to another ticket the intake is refused, so a case is
    never tied to the wrong citizen.
    """
    hall = current_hall()
    clerk = _clerk_at(number)
    data = _body()
    applicant = _applicant(data)
    items = _names(data, "items", required=True)
    received = _names(data, "received")
    e_licences = _names(data, "e_licences")
    expected = _field(data, "ticket", str, required=False)
    with _write() as s:
        window = s.get(Window, number)
        if window is None:
            raise NotFound(f"no window {number}", code="unknown_window")
        ticket = s.get(Ticket, window.current_ticket_id) if window.current_ticket_id else None
        if ticket is None:
            raise Conflict(f"window {number} is serving no ticket", code="no_current_ticket")
        if expected is not None and ticket.number != expected:
            raise Conflict(
                f"window {number} now serves {ticket.number}, not {expected}",
                code="ticket_not_current",
            )
        case = create_intake(
            s, _rules(), ticket_id=ticket.id, window_number=number, clerk_id=clerk,
            applicant=applicant, item_codes=items, received=received, e_licences=e_licences,
            now=hall.clock(),
        )
        notice = {
            "case_number": case.number,
            "window": number,
            "ticket": ticket.number,
            "items": [i.item_code for i in case.items],
            "departments": sorted({i.department_code for i in case.items}),
            "gaps": sum(1 for m in case.materials if m.missing),
        }
    # After commit: the manager's page and the window's own screen learn of the new case.
    hall.socketio.emit("case", notice, to=["manager", f"window:{number}"])
    return jsonify(
        case_number=notice["case_number"],
        slip_url=url_for("intake_pages.slip", number=notice["case_number"]),
        case_url=url_for("intake_api.case_view", number=notice["case_number"]),
    ), 201


def _case_view(s: Session, number: str) -> dict[str, Any]:
    """The routing slip's view plus history; identity unmasked for the accepting clerk only."""
    hall = current_hall()
    view = routing_slip(s, number, rules=_rules(), now=hall.clock())
    case = get_case(s, number)
    ticket = s.get(Ticket, case.ticket_id)
    view["ticket"] = ticket.number if ticket else None
    view["masked"] = session.get("clerk") != case.clerk_id
    if not view["masked"]:
        view["applicant"] = {
            "kind": case.applicant_kind,
            "name": case.applicant_name,
            "id_number": case.applicant_id_number,
            "phone": case.applicant_phone,
        }
    history = {
        item.item_code: [
            {
                "at": e.at.replace(tzinfo=dt.UTC).isoformat(),
                "from": e.from_status,
                "to": e.to_status,
                "actor": e.actor,
                "reason": e.reason,
            }
            for e in item.events
        ]
        for item in case.items
    }
    for item in view["items"]:
        item["history"] = history[item["code"]]
    view["slip_url"] = url_for("intake_pages.slip", number=number)
    return view


@bp.get("/cases/<number>")
def case_view(number: str) -> Any:
    with current_hall().db.read() as s:
        return jsonify(_case_view(s, number))


@bp.post("/cases/<number>/supplements")
def supplement(number: str) -> Any:
    """A missing material arrived. A clerk logged in at a window records it; with ``ticket``
    (the number being served at that window) it counts as the applicant's window visit,
    without it (post, online) it does not."""
    hall = current_hall()
    clerk = session.get("clerk")
    window_number = session.get("window")
    if not clerk or window_number is None:
        raise Unauthorized("log in at a window first", code="not_logged_in")
    data = _body()
    material = _field(data, "material", str)
    e_licence = bool(_field(data, "e_licence", bool, required=False))
    expected = _field(data, "ticket", str, required=False)
    with _write() as s:
        ticket_id = None
        if expected is not None:
            window = s.get(Window, window_number)
            ticket = (
                s.get(Ticket, window.current_ticket_id)
                if window is not None and window.current_ticket_id
                else None
            )
            if ticket is None or ticket.number != expected or window.clerk_id != clerk:
                raise Conflict(
                    f"{expected} is not being served at window {window_number}",
                    code="ticket_not_current",
                )
            ticket_id = ticket.id
        record_supplement(
            s, number, material, hall.clock(), ticket_id=ticket_id, e_licence=e_licence
        )
        view = _case_view(s, number)
    return jsonify(view), 201


# ---------------------------------------------------------------- back-office console


def approval_backends(app: Flask) -> Backends:
    """The hall's approval back-ends from ``[approval]``, made once per app.

    The dispatcher job should deliver through the same object (it is kept in
    ``app.extensions["approval_backends"]``), so the console and the webhook
    secrets the callback checks are the ones messages were sent with.
    """
    backends = app.extensions.get("approval_backends")
    if backends is None:
        hall = app.extensions["hall"]
        backends = backends_from_config(
            hall.config.raw.get("approval", {}), hall.db, clock=hall.clock
        )
        app.extensions["approval_backends"] = backends
    return backends


def _department(s: Session, code: str) -> str:
    found = s.scalars(
        select(ServiceItem.department_code).where(ServiceItem.department_code == code).limit(1)
    ).first()
    if found is None:
        raise NotFound(f"no department {code!r} in the catalogue", code="unknown_department")
    return found


@bp.get("/backoffice/<department>/cases")
def backoffice_cases(department: str) -> Any:
    """The department's console queue: hand-offs delivered to the built-in console.

    Each case's materials are as they are now, not as handed off: an approver
    waiting for a supplement sees it has arrived.
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
            for material in c["materials"]:
                row = current.get((c["case_number"], material["name_zh"]))
                if row is not None:
                    material.update(
                        status="missing" if row.missing else "received",
                        source=row.source,
                        due_on=row.due_on.isoformat() if row.missing and row.due_on else None,
                    )
        return jsonify(department=department, cases=cases)


@bp.post("/backoffice/cases/<int:case_id>/<any(claim, approve, reject, supplement):action>")
def backoffice_act(case_id: int, action: str) -> Any:
    """Claim, approve, reject or ask for a supplement; the department's case items follow.
    A rejection or a supplement request needs a ``reason`` (the applicant is told why)."""
    data = _body()
    approver = _field(data, "approver", str)
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("'reason' must be str", code="invalid_field", field="reason")
    with _write() as s:
        row = console_act(s, case_id, action, approver, current_hall().clock(), reason)
        return jsonify(console_view(row))


# ---------------------------------------------------------------- callback of approval systems


@bp.post("/approval/callback")
def approval_callback() -> Any:
    """A department's own system reports an item's new status.

    Body: ``{"department", "case_number", "item", "status", "actor"?, "reason"?}``,
    signed like the hand-off (``X-Hall-Signature`` over ``timestamp.body``
    with the department's webhook secret). Nothing is read from an unsigned
    body but the department whose secret checks it. A repeat of a status the
    item already has is answered ``unchanged``, so a retried callback is harmless.
    """
    hall = current_hall()
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    department = data.get("department") if isinstance(data, dict) else None
    secret = (
        approval_backends(current_app).secrets.get(department)
        if isinstance(department, str)
        else None
    )
    if not isinstance(data, dict) or secret is None or not verify_callback(
        secret, raw, request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER),
        hall.clock(),
    ):
        raise Unauthorized("callback signature missing, stale or wrong", code="bad_signature")
    case_number = _field(data, "case_number", str)
    item_code = _field(data, "item", str)
    status = _field(data, "status", str)
    actor = _field(data, "actor", str, required=False) or department
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("'reason' must be str", code="invalid_field", field="reason")
    with _write() as s:
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
            set_item_status(s, case_number, item_code, status, actor, reason, now=hall.clock())
    return jsonify(case_number=case_number, item=item_code, status=status, unchanged=unchanged)


# ---------------------------------------------------------------- outbox (admin)


def _message_view(m: HandoffMessage) -> dict[str, Any]:
    """A hand-off without its payload: that carries the applicant's full identity."""
    def iso(value: dt.datetime | None) -> str | None:
        return value.replace(tzinfo=dt.UTC).isoformat() if value else None

    return {
        "id": m.id,
        "idempotency_key": m.idempotency_key,
        "case_number": m.case_number,
        "department": m.department,
        "items": [i.get("code") for i in m.payload.get("items", [])],
        "status": m.status,
        "attempts": m.attempts,
        "adapter": m.adapter,
        "last_error": m.last_error,
        "created_at": iso(m.created_at),
        "next_attempt_at": iso(m.next_attempt_at) if m.status == "pending" else None,
        "delivered_at": iso(m.delivered_at),
    }


@bp.get("/outbox")
def outbox() -> Any:
    status = request.args.get("status") or None
    with current_hall().db.read() as s:
        messages = handoff.list_messages(s, status)
        counts = dict(
            s.execute(
                select(HandoffMessage.status, func.count()).group_by(HandoffMessage.status)
            ).all()
        )
        return jsonify(
            status=status,
            messages=[_message_view(m) for m in messages],
            counts={st: counts.get(st, 0) for st in MESSAGE_STATUSES},
        )


@bp.post("/outbox/<int:message_id>/resend")
def outbox_resend(message_id: int) -> Any:
    """A dead letter goes back to pending with a fresh count of tries; the dispatcher sends it."""
    hall = current_hall()
    row = handoff.resend(hall.db, message_id, hall.clock())
    return jsonify(_message_view(row))
