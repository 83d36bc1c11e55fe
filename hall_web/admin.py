"""Admin: staff and their roles, devices, the security log, and the hand-off outbox.

Pages ``/admin/staff`` and ``/admin/outbox``; API, prefix ``/api/v1``: ``staff`` (+ per
login: ``enable``, ``disable``, ``password``, ``pin``, ``roles/grant``, ``roles/revoke``,
``windows``), ``devices`` (+ ``<id>/revoke``), ``security-log``, ``outbox`` (+ resend).
Admins only; every change is in the security log under the admin's login.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import qrcode
import qrcode.image.svg
from flask import (
    Blueprint,
    jsonify,
    render_template,
    request,
)
from sqlalchemy import func, select

from hall_ops.cases import handoff
from hall_ops.cases.models import MESSAGE_STATUSES, HandoffMessage
from hall_ops.errors import InvalidInput
from hall_ops.staff import accounts, devices
from hall_ops.staff import log as security_log
from hall_web.access import access
from hall_web.api import answers, api
from hall_web.auth import auth_context
from hall_web.backoffice import departments
from hall_web.context import current_hall
from hall_web.request_helpers import actor, layout, write
from hall_web.schemas.admin import (
    DeviceIssued,
    DeviceRevoked,
    Devices,
    NewDevice,
    NewPassword,
    NewPin,
    NewStaff,
    Outbox,
    OutboxMessage,
    OutboxQuery,
    RoleChange,
    SecurityLog,
    SecurityLogQuery,
    StaffEntry,
    StaffList,
    StaffWindows,
)

bp = Blueprint("admin", __name__)


@bp.get("/admin/outbox")
@access("admin")
def outbox_page() -> str:
    return render_template("outbox.html", departments=departments())


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


@bp.get("/api/v1/outbox")
@access("admin")
@api.validate(resp=answers(HTTP_200=Outbox))
def outbox(query: OutboxQuery) -> Any:
    status = query.status
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


@bp.post("/api/v1/outbox/<int:message_id>/resend")
@access("admin")
@api.validate(resp=answers(HTTP_200=OutboxMessage, errors=(404, 409)))
@api.validate(resp=answers(HTTP_200=OutboxMessage, errors=(404, 409)))
def outbox_resend(message_id: int) -> Any:
    """A dead letter goes back to pending with a fresh count of tries; the dispatcher sends it."""
    with write() as s:
        row = handoff.resend(s, message_id, current_hall().clock(), actor())
        return jsonify(_message_view(row))


# ---------------------------------------------------------------- staff


@bp.get("/admin/staff")
@access("admin")
def staff_page() -> str:
    floor = layout()
    return render_template(
        "staff.html", departments=departments(), zones=floor["zones"], windows=floor["windows"]
    )


def _staff_answer(login: str) -> Any:
    with current_hall().db.read() as s:
        found = [entry for entry in accounts.list_staff(s) if entry["login"] == login]
    return jsonify(found[0])


@bp.get("/api/v1/staff")
@access("admin")
@api.validate(resp=answers(HTTP_200=StaffList))
def staff_list() -> Any:
    with current_hall().db.read() as s:
        return jsonify(staff=accounts.list_staff(s))


@bp.post("/api/v1/staff")
@access("admin")
@api.validate(resp=answers(HTTP_201=StaffEntry, errors=(409,)))
def staff_add(json: NewStaff) -> Any:
    """A person with no role yet (grant them one next)."""
    state = auth_context()
    with write() as s:
        added = accounts.add_staff(
            s, actor(), json.login, json.name, state.clock(), state.policy,
            password=json.password, pin=json.pin,
        )
        login = added.id
    return _staff_answer(login), 201


@bp.post("/api/v1/staff/<login>/<any(enable, disable):change>")
@access("admin")
@api.validate(resp=answers(HTTP_200=StaffEntry, errors=(404, 409)))
def staff_enable(login: str, change: str) -> Any:
    """Disabling ends the person's sessions at once; the hall's last admin stays enabled."""
    state = auth_context()
    with write() as s:
        accounts.set_enabled(s, actor(), login, change == "enable", state.clock(), state.policy)
    return _staff_answer(login)


@bp.post("/api/v1/staff/<login>/password")
@access("admin")
@api.validate(resp=answers(HTTP_200=StaffEntry, errors=(404, 409)))
def staff_password(login: str, json: NewPassword) -> Any:
    """A new password (given to the person in person); lifts a lockout, ends their sessions."""
    state = auth_context()
    with write() as s:
        accounts.reset_password(s, actor(), login, json.password, state.clock(), state.policy)
    return _staff_answer(login)


@bp.post("/api/v1/staff/<login>/pin")
@access("admin")
@api.validate(resp=answers(HTTP_200=StaffEntry, errors=(404, 409)))
def staff_pin(login: str, json: NewPin) -> Any:
    """A new window PIN (``null`` removes it); lifts the PIN lockout, ends their sessions."""
    state = auth_context()
    with write() as s:
        accounts.reset_pin(s, actor(), login, json.pin, state.clock(), state.policy)
    return _staff_answer(login)


@bp.post("/api/v1/staff/<login>/roles/<any(grant, revoke):change>")
@access("admin")
@api.validate(resp=answers(HTTP_200=StaffEntry, errors=(404, 409)))
def staff_role(login: str, change: str, json: RoleChange) -> Any:
    """Approvers are granted per department."""
    state = auth_context()
    change_role = accounts.grant_role if change == "grant" else accounts.revoke_role
    with write() as s:
        change_role(s, actor(), login, json.role, state.clock(), state.policy,
                    department=json.department)
    return _staff_answer(login)


@bp.put("/api/v1/staff/<login>/windows")
@access("admin")
@api.validate(resp=answers(HTTP_200=StaffEntry, errors=(404, 409)))
def staff_windows(login: str, json: StaffWindows) -> Any:
    """The windows a clerk may log in at (replaces the list)."""
    state = auth_context()
    with write() as s:
        accounts.set_windows(s, actor(), login, json.windows, state.clock(), state.policy)
    return _staff_answer(login)


# ---------------------------------------------------------------- devices


def _qr_data_url(text: str) -> str:
    """The QR code of a device link as an image the page can show (drawn here, offline)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


@bp.get("/api/v1/devices")
@access("admin")
@api.validate(resp=answers(HTTP_200=Devices))
def device_list() -> Any:
    with current_hall().db.read() as s:
        return jsonify(devices=devices.list_devices(s, auth_context().policy.hall))


@bp.post("/api/v1/devices")
@access("admin")
@api.validate(resp=answers(HTTP_201=DeviceIssued, errors=(409,)))
def device_issue(json: NewDevice) -> Any:
    """A new device token, answered once as a link and its QR code (only its hash is
    kept); open the link on the device itself."""
    state = auth_context()
    with write() as s:
        device, token = devices.issue_device(
            s, actor(), json.kind, json.name, json.scope, state.clock(), state.policy,
        )
        issued = {"id": device.id, "kind": device.kind, "name": device.name,
                  "scope": device.scope}
        link = (request.host_url.rstrip("/") + request.script_root
                + devices.device_link(device.kind, device.scope, token))
    return jsonify(device=issued, link=link, qr=_qr_data_url(link)), 201


@bp.post("/api/v1/devices/<int:device_id>/revoke")
@access("admin")
@api.validate(resp=answers(HTTP_200=DeviceRevoked, errors=(404, 409)))
def device_revoke(device_id: int) -> Any:
    """The device loses its access at its next request."""
    with write() as s:
        device = devices.revoke_device(s, actor(), device_id, current_hall().clock())
        return jsonify(id=device.id, revoked_at=device.revoked_at.isoformat()
                       if device.revoked_at else None)


# ---------------------------------------------------------------- security log


@bp.get("/api/v1/security-log")
@access("admin")
@api.validate(resp=answers(HTTP_200=SecurityLog))
def security_log_api(query: SecurityLogQuery) -> Any:
    """Newest first; ``kind`` (comma-separated, e.g. ``login_failed,locked_out``) and
    ``subject`` (a login, ``case:<number>``, ``device:<id>``) narrow it."""
    kinds = [k for k in (query.kind or "").split(",") if k] or None
    unknown = sorted(set(kinds or ()) - set(security_log.KINDS))
    if unknown:
        raise InvalidInput(f"unknown kind(s) {unknown}", code="invalid_field", field="kind")
    with current_hall().db.read() as s:
        return jsonify(events=security_log.recent_events(
            s, kinds=kinds, subject=query.subject or None))
