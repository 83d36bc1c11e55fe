"""Silent calling (a mobile number left for a ticket) and tickets printed on the kiosk's own
ESC/POS printer: thin edges over ``hall_ops.queue.silent`` and ``hall_ops.printing``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, jsonify
from flask_babel import gettext, ngettext

from hall_ops import printing, queue
from hall_ops.clock import to_local
from hall_ops.errors import Conflict
from hall_ops.queue import silent
from hall_web.access import access, current_device
from hall_web.api import answers, api
from hall_web.citizens import ticket_status_view
from hall_web.context import current_hall
from hall_web.request_helpers import write
from hall_web.schemas.citizens import (
    LeavePhone,
    PhoneState,
    PrintedTicket,
    PrinterState,
    TakeTicket,
)
from hall_web.security import lookup_limits

bp = Blueprint("notify", __name__)


def _phone_state(token: str) -> dict[str, Any]:
    hall = current_hall()
    with hall.db.read() as s:
        state = silent.phone_state(s, queue.ticket_by_token(s, token), hall.config)
    return {"available": hall.silent_calling is not None, **state}


def _offered() -> None:
    if current_hall().silent_calling is None:
        raise Conflict("the hall sends no queue SMS (no gateway configured)",
                       code="sms_unavailable")


@bp.get("/api/v1/tickets/<token>/phone")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_200=PhoneState, errors=(404,)))
def phone_state(token: str) -> Any:
    return jsonify(_phone_state(token))


@bp.put("/api/v1/tickets/<token>/phone")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_200=PhoneState, errors=(404, 409)))
def leave_phone(token: str, json: LeavePhone) -> Any:
    """The ticket's holder (who has its token) leaves a mobile number for silent calling."""
    _offered()
    hall = current_hall()
    with write() as s:
        silent.leave_phone(s, queue.ticket_by_token(s, token), json.phone, hall.clock())
    assert hall.silent_calling is not None
    hall.silent_calling.wake()  # already near the front: the first SMS goes now
    return jsonify(_phone_state(token))


@bp.delete("/api/v1/tickets/<token>/phone")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_200=PhoneState, errors=(404,)))
def withdraw_phone(token: str) -> Any:
    with write() as s:
        silent.withdraw_phone(s, queue.ticket_by_token(s, token))
    return jsonify(_phone_state(token))


def kiosk_printer() -> printing.PrinterConfig | None:
    device = current_device()
    return printing.printer_for(current_hall().printers, device.scope if device else None)


def _ask_paper(printer: printing.PrinterConfig) -> str:
    """Ask the paper sensor now and record the answer (the manager's alerts read it)."""
    paper, error = printing.query_paper(printer)
    with write() as s:
        printing.record_status(s, printer, paper, error, current_hall().clock())
    return paper


@bp.get("/api/v1/kiosk/printer")
@access("device", kinds=("kiosk",), also=("manager",))
@api.validate(resp=answers(HTTP_200=PrinterState))
def printer_state() -> Any:
    printer = kiosk_printer()
    return jsonify(printer=printer.name if printer else None,
                   paper=_ask_paper(printer) if printer else None)


def _slip(view: dict[str, Any]) -> printing.Slip:
    hall = current_hall()
    taken = to_local(dt.datetime.fromisoformat(view["taken_at"]).replace(tzinfo=None),
                     hall.config.timezone)
    wait = view["estimated_wait_minutes"]
    return printing.Slip(
        title=hall.config.name_zh, number=view["number"],
        lines=[view["service_name_zh"],
               ngettext("%(num)d person ahead", "%(num)d people ahead", view["people_ahead"]),
               gettext("Estimated wait: %(m)s min", m=wait) if wait is not None
               else gettext("Estimated wait: unknown"),
               gettext("Taken at %(t)s", t=f"{taken:%Y-%m-%d %H:%M}")],
        qr_url=view["status_url"],
        footer=[gettext("Scan to follow your place in line"),
                gettext("Keep this ticket; a missed number needs a new ticket")])


@bp.post("/api/v1/kiosk/tickets")
@access("device", kinds=("kiosk",), also=("manager",))
@api.validate(resp=answers(HTTP_201=PrintedTicket, errors=(404, 409)))
def kiosk_ticket(json: TakeTicket) -> Any:
    """A ticket at a kiosk with its own printer: the paper is checked first — out of paper or
    not answering, no ticket is issued — then the slip is printed. Without a printer the
    ticket is issued and the kiosk prints it through the browser (``printed`` false)."""
    hall = current_hall()
    printer = kiosk_printer()
    if printer is not None:
        paper = _ask_paper(printer)
        if paper == "out":
            raise Conflict("the ticket printer is out of paper", code="printer_out_of_paper")
        if paper == "offline":
            raise Conflict("the ticket printer does not answer", code="printer_offline")
    with write() as s:
        ticket = queue.take_ticket(
            s, hall.config, json.service, hall.clock(), priority=json.priority or "normal",
            ignore_hours=hall.always_open, resident_id=json.resident_id,
        )
        view = ticket_status_view(s, ticket, new=True)
    printed = False
    if printer is not None:
        try:
            printing.send(printer, printing.slip_bytes(_slip(view)))
            printed = True
        except printing.PrinterError as exc:  # issued: the kiosk shows the number, says so
            with write() as s:
                printing.record_status(s, printer, "offline", str(exc)[:300], hall.clock())
    return jsonify({**view, "printed": printed}), 201
