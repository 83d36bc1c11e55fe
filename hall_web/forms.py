"""Self-service application forms at the edge: the form of an item (public), the citizen's
draft by their ticket's token (see, save, delete), and at the intake window pulling a draft
by ticket or case number and accepting it into an intake record.

The citizen's routes need no login: the ticket's token is the key (look-ups limited per
address, as every token look-up is). The source of a draft is the caller, not the body: a
kiosk device's session saves ``kiosk``, anyone else ``phone``. The clerk's routes need the
clerk logged in at that window; the accepting clerk comes from the session.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, jsonify, url_for

from hall_ops.cases.intake import ticket_at_window
from hall_ops.clock import hall_day
from hall_ops.errors import NotFound
from hall_ops.forms import drafts
from hall_ops.forms.spec import form_description, validate_form
from hall_ops.staff import log as security_log
from hall_web.access import access, current_device
from hall_web.api import answers, api
from hall_web.context import current_hall
from hall_web.request_helpers import attached_licences, clerk_at, destination_of, write
from hall_web.schemas.forms import (
    AcceptDraft,
    Draft,
    DraftAccepted,
    DraftDeleted,
    DraftQuery,
    Drafts,
    FormBody,
    FormChecked,
    FormDescription,
)
from hall_web.security import lookup_limits

bp = Blueprint("forms", __name__)


def _lifetime() -> dt.timedelta:
    return dt.timedelta(hours=current_hall().config.sections.forms.draft_hours)


@bp.get("/api/v1/items/<code>/form")
@access("public")
@api.validate(resp=answers(HTTP_200=FormDescription, errors=(404,)))
def item_form(code: str) -> Any:
    """The fields of an item's application form, labels and help in both languages."""
    with current_hall().db.read() as s:
        return jsonify(form_description(s, code))


@bp.post("/api/v1/forms/check")
@access("public")
@api.validate(resp=answers(HTTP_200=FormChecked, errors=(404,)))
def check_form(json: FormBody) -> Any:
    """Check a form without keeping it: the kiosk asks before it takes a ticket for it."""
    hall = current_hall()
    with hall.db.read() as s:
        validate_form(s, json.model_dump(), hall_day(hall.clock(), hall.config.timezone))
    return jsonify(ok=True)


@bp.get("/api/v1/tickets/<token>/draft")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_200=Draft, errors=(404,)))
def get_draft(token: str) -> Any:
    """What the citizen typed, shown back to the holder of the ticket."""
    hall = current_hall()
    with hall.db.read() as s:
        draft = drafts.draft_of_ticket(s, token, hall.clock())
        if draft is None:
            raise NotFound("no form saved for this ticket", code="unknown_draft")
        return jsonify(drafts.draft_view(s, draft))


@bp.put("/api/v1/tickets/<token>/draft")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_200=Draft, errors=(404, 409)))
def save_draft(token: str, json: FormBody) -> Any:
    hall = current_hall()
    device = current_device()
    source = "kiosk" if device is not None and device.kind == "kiosk" else "phone"
    with write() as s:
        draft = drafts.save_draft(
            s, token, json.model_dump(), source=source, now=hall.clock(),
            rules=hall.config.intake_rules, lifetime=_lifetime(),
        )
        return jsonify(drafts.draft_view(s, draft))


@bp.delete("/api/v1/tickets/<token>/draft")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_200=DraftDeleted, errors=(404,)))
def delete_draft(token: str) -> Any:
    with write() as s:
        return jsonify(deleted=drafts.delete_draft(s, token))


@bp.get("/api/v1/windows/<int:number>/drafts")
@access("clerk_at_window")
@api.validate(resp=answers(HTTP_200=Drafts, errors=(401, 404, 409)))
def pull_drafts(number: int, query: DraftQuery) -> Any:
    """Drafts by ``ref`` (today's ticket number or a case number), by default of the ticket
    in hand. The identity in them is shown whole to this clerk, and that read is logged."""
    hall = current_hall()
    clerk = clerk_at(number)
    with write() as s:
        ref = query.ref
        if ref is None:
            ref = ticket_at_window(s, number, None).number
        found = drafts.find_drafts(s, ref, hall.clock(), hall.config.intake_rules)
        views = [drafts.draft_view(s, d) for d in found]
        for d in found:
            security_log.log_personal_data_read(
                s, clerk, f"draft:{d.id}", hall.clock(), purpose="form draft pulled")
    return jsonify(ref=ref.strip().upper(), drafts=views)


@bp.post("/api/v1/windows/<int:number>/drafts/<int:draft_id>/accept")
@access("clerk_at_window")
@api.validate(resp=answers(HTTP_201=DraftAccepted, errors=(401, 404, 409)))
def accept_draft(number: int, draft_id: int, json: AcceptDraft) -> Any:
    """Accept a draft as checked: the intake record is made from its values for the ticket
    in hand; fields the clerk changed are named in the answer and kept with the case."""
    hall = current_hall()
    clerk = clerk_at(number)
    with write() as s:
        ticket = ticket_at_window(s, number, json.ticket)
        case, corrected = drafts.accept_draft(
            s, hall.config.intake_rules, draft_id, checked=json.form.model_dump(),
            ticket_id=ticket.id, window_number=number, clerk_id=clerk,
            received=json.received, e_licences=json.e_licences,
            licences=attached_licences(json.licences), consent=json.licence_consent,
            destination=destination_of(json.delivery), now=hall.clock(),
        )
        case_number = case.number
    return jsonify(
        case_number=case_number, corrected=corrected,
        slip_url=url_for("clerks.slip", number=case_number),
        case_url=url_for("clerks.case_view", number=case_number),
    ), 201
