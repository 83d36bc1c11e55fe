"""Admin: the hand-off outbox — messages to approval back-ends, dead letters, resend."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    jsonify,
    render_template,
)
from sqlalchemy import func, select

from hall_ops.cases import handoff
from hall_ops.cases.models import MESSAGE_STATUSES, HandoffMessage
from hall_web.api import answers, api
from hall_web.backoffice import departments
from hall_web.context import current_hall
from hall_web.schemas.admin import Outbox, OutboxMessage, OutboxQuery

bp = Blueprint("admin", __name__)


@bp.get("/admin/outbox")
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
@api.validate(resp=answers(HTTP_200=OutboxMessage, errors=(404, 409)))
def outbox_resend(message_id: int) -> Any:
    """A dead letter goes back to pending with a fresh count of tries; the dispatcher sends it."""
    hall = current_hall()
    row = handoff.resend(hall.db, message_id, hall.clock())
    return jsonify(_message_view(row))
