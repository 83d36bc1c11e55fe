"""JSON API ``/api/v1``: thin edge over ``hall_ops.queue``.

Each view validates its input, runs one domain function in one write
transaction, and only after the commit pushes the result to the screens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, jsonify, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops import case_report as case_reports
from hall_ops import delivery, queue, ratings, reports
from hall_ops.intake import IntakeRules
from hall_ops.clock import from_local, hall_day, to_local
from hall_ops.errors import InvalidInput, NotFound, Unauthorized
from hall_ops.models import Clerk, Service, Ticket, Window
from hall_web.context import current_hall

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_TEXT = 200


# ---------------------------------------------------------------- input


def _body() -> dict[str, Any]:
    if not request.data:
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", code="bad_json")
    return data


def _field(data: dict[str, Any], name: str, kind: type, *, required: bool = True) -> Any:
    value = data.get(name)
    if value is None:
        if required:
            raise InvalidInput(f"'{name}' is required", code="missing_field", field=name)
        return None
    if kind is int and isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidInput(f"'{name}' must be {kind.__name__}", code="invalid_field", field=name)
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise InvalidInput(f"'{name}' is too long", code="invalid_field", field=name)
    return value


def _write():  # type: ignore[no-untyped-def]
    """A write transaction whose audit trail records the caller's address (and device, if named)."""
    device = request.headers.get("X-Hall-Device", "")[:40]
    origin = f"{request.remote_addr or '-'} {device}".strip()
    return current_hall().db.write(origin=origin)


def _clerk_at(number: int) -> str:
    clerk = session.get("clerk")
    if not clerk or session.get("window") != number:
        raise Unauthorized(f"log in at window {number} first", code="not_logged_in")
    return clerk


# ---------------------------------------------------------------- views


def _status(s: Session, ticket: Ticket) -> dict[str, Any]:
    view = queue.ticket_status(s, current_hall().config, ticket.status_token)
    view["case"] = delivery.delivery_view(s, ticket.id)
    token = ticket.status_token
    view["status_url"] = url_for("pages.ticket_page", token=token, _external=True)
    view["print_url"] = url_for("pages.ticket_print", token=token)
    view["qr_url"] = url_for("pages.ticket_qr", token=token)
    return view


def _window_view(s: Session, number: int) -> dict[str, Any]:
    hall = current_hall()
    window = s.get(Window, number)
    if window is None:
        raise NotFound(f"no window {number}", code="unknown_window")
    clerk = s.get(Clerk, window.clerk_id) if window.clerk_id else None
    current = s.get(Ticket, window.current_ticket_id) if window.current_ticket_id else None
    day = hall_day(hall.clock(), hall.config.timezone)
    waiting = queue.waiting_by_service(s, day)
    upcoming = s.scalars(
        select(Ticket.number)
        .where(
            Ticket.status == "waiting",
            Ticket.day == day,
            Ticket.service_code.in_(window.service_codes),
        )
        .order_by(Ticket.rank_at, Ticket.id)
        .limit(5)
    ).all()
    return {
        "number": window.number,
        "zone": window.zone_code,
        "kind": window.kind,
        "state": window.state,
        "clerk": window.clerk_id,
        "clerk_name": clerk.name if clerk else None,
        "services": window.service_codes,
        "ticket": _status(s, current) if current else None,
        "waiting": {code: waiting.get(code, 0) for code in window.service_codes},
        "next": list(upcoming),
    }


def _after_window_change(number: int, call: dict[str, Any] | None = None) -> dict[str, Any]:
    """Push to screens after commit, then answer with the window as it now is."""
    hall = current_hall()
    if call is not None:
        hall.publisher.call(call)
    hall.publisher.queue_changed()
    with hall.db.read() as s:
        view = _window_view(s, number)
    hall.publisher.window_changed(number, view)
    return view


@bp.get("/hall")
def hall_layout() -> Any:
    hall = current_hall()
    with hall.db.read() as s:
        layout = queue.hall_layout(s)
    return jsonify(
        name_zh=hall.config.name_zh,
        name_en=hall.config.name_en,
        open=hall.always_open or hall.config.is_open(hall.clock()),
        **layout,
    )


@bp.post("/tickets")
def take_ticket() -> Any:
    hall = current_hall()
    data = _body()
    service = _field(data, "service", str)
    priority = _field(data, "priority", str, required=False) or "normal"
    with _write() as s:
        ticket = queue.take_ticket(
            s, hall.config, service, hall.clock(), priority=priority, ignore_hours=hall.always_open
        )
        view = _status(s, ticket)
    hall.publisher.queue_changed()
    return jsonify(view), 201


@bp.get("/tickets/<token>")
def ticket_status(token: str) -> Any:
    hall = current_hall()
    with hall.db.read() as s:
        return jsonify(_status(s, queue.ticket_by_token(s, token)))


@bp.post("/tickets/<token>/cancel")
def cancel_ticket(token: str) -> Any:
    hall = current_hall()
    with _write() as s:
        view = _status(s, queue.cancel_ticket(s, token, hall.clock()))
    hall.publisher.queue_changed()
    return jsonify(view)


@bp.post("/tickets/<token>/rating")
def rate(token: str) -> Any:
    hall = current_hall()
    data = _body()
    with _write() as s:
        rating = ratings.rate(
            s,
            token,
            _field(data, "score", int),
            hall.clock(),
            comment=_field(data, "comment", str, required=False),
            complaint=bool(_field(data, "complaint", bool, required=False)),
            source=_field(data, "source", str, required=False) or "ticket_page",
        )
        return jsonify(score=rating.score, complaint=rating.complaint,
                       window=rating.window_number), 201


@bp.post("/deliveries/check-in")
def delivery_check_in() -> Any:
    """The citizen collects a result: case number + last four digits of the phone → a ticket."""
    hall = current_hall()
    data = _body()
    with _write() as s:
        ticket = delivery.check_in(
            s, hall.config, _field(data, "case_number", str), _field(data, "phone_last4", str),
            hall.clock(), ignore_hours=hall.always_open,
        )
        view = _status(s, ticket)
    hall.publisher.queue_changed()
    return jsonify(view), 201


@bp.get("/windows/<int:number>/rating-pad")
def rating_pad(number: int) -> Any:
    """What the pad beside window ``number`` offers to rate: the service just finished there."""
    hall = current_hall()
    with hall.db.read() as s:
        if s.get(Window, number) is None:
            raise NotFound(f"no window {number}", code="unknown_window")
        ticket = ratings.awaiting_pad_rating(s, number, hall.clock())
        return jsonify(ticket={"number": ticket.number, "token": ticket.status_token}
                       if ticket else None)


@bp.post("/appointments")
def create_appointment() -> Any:
    hall = current_hall()
    data = _body()
    service = _field(data, "service", str)
    start_text = _field(data, "slot_start", str)
    minutes = _field(data, "slot_minutes", int, required=False) or 30
    name = _field(data, "name", str)
    phone = _field(data, "phone", str, required=False)
    try:
        local_start = dt.datetime.fromisoformat(start_text)
    except ValueError as exc:
        raise InvalidInput("slot_start must look like 2026-11-25T10:00", code="invalid_field",
                           field="slot_start") from exc
    with _write() as s:
        appointment = queue.create_appointment(
            s, service, from_local(local_start, hall.config.timezone), minutes, name, phone,
            hall.clock(),
        )
        tz = hall.config.timezone
        return jsonify(
            code=appointment.code,
            service=appointment.service_code,
            slot_start=to_local(appointment.slot_start, tz).isoformat(),
            slot_end=to_local(appointment.slot_end, tz).isoformat(),
        ), 201


@bp.post("/appointments/<code>/check-in")
def check_in(code: str) -> Any:
    hall = current_hall()
    with _write() as s:
        ticket = queue.check_in(s, hall.config, code, hall.clock(), ignore_hours=hall.always_open)
        view = _status(s, ticket)
    hall.publisher.queue_changed()
    return jsonify(view), 201


@bp.get("/queue")
def queue_snapshot() -> Any:
    hall = current_hall()
    with hall.db.read() as s:
        return jsonify(queue.queue_snapshot(s, hall.config, hall.clock()))


@bp.get("/calls")
def recent_calls() -> Any:
    hall = current_hall()
    zone = request.args.get("zone")
    window = request.args.get("window")
    limit = request.args.get("limit", str(hall.config.queue.recent_calls_shown))
    if window is not None and not window.isdigit():
        raise InvalidInput("window must be a number", code="invalid_field", field="window")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        raise InvalidInput("limit must be 1–100", code="invalid_field", field="limit")
    with hall.db.read() as s:
        calls = queue.recent_calls(
            s, int(limit), zone=zone, window=int(window) if window else None,
            day=hall_day(hall.clock(), hall.config.timezone),
        )
    return jsonify(calls=calls)


@bp.get("/clerks")
def clerks() -> Any:
    with current_hall().db.read() as s:
        rows = s.scalars(select(Clerk).order_by(Clerk.id)).all()
        return jsonify(clerks=[{"id": c.id, "name": c.name} for c in rows])


@bp.get("/services/<code>")
def service(code: str) -> Any:
    with current_hall().db.read() as s:
        found = s.get(Service, code)
        if found is None:
            raise NotFound(f"unknown service {code!r}", code="unknown_service")
        return jsonify(code=found.code, letter=found.letter, name_zh=found.name_zh,
                       name_en=found.name_en, zone=found.zone_code, board=found.board)


# ---------------------------------------------------------------- windows


@bp.get("/windows/<int:number>")
def window_view(number: int) -> Any:
    with current_hall().db.read() as s:
        return jsonify(_window_view(s, number))


@bp.post("/windows/<int:number>/login")
def window_login(number: int) -> Any:
    hall = current_hall()
    data = _body()
    clerk = _field(data, "clerk", str)
    pin = _field(data, "pin", str)
    with _write() as s:
        queue.open_window(s, number, clerk, pin, hall.clock())
    session.clear()
    session["clerk"], session["window"] = clerk, number
    return jsonify(_after_window_change(number))


@bp.post("/windows/<int:number>/logout")
def window_logout(number: int) -> Any:
    clerk = _clerk_at(number)
    with _write() as s:
        queue.close_window(s, number, clerk)
    session.clear()
    return jsonify(_after_window_change(number))


@bp.post("/windows/<int:number>/pause")
def window_pause(number: int) -> Any:
    clerk = _clerk_at(number)
    paused = _field(_body(), "paused", bool)
    with _write() as s:
        queue.pause_window(s, number, clerk, paused)
    return jsonify(_after_window_change(number))


@bp.post("/windows/<int:number>/call-next")
def call_next(number: int) -> Any:
    hall = current_hall()
    clerk = _clerk_at(number)
    with _write() as s:
        ticket, event = queue.call_next(s, hall.config, number, clerk, hall.clock())
        call = (
            queue.call_view(event, ticket.number, ticket.service_code, s.get(Window, number).zone_code)
            if ticket and event
            else None
        )
    view = _after_window_change(number, call)
    return jsonify(
        ticket=view["ticket"],
        call=call,
        window=view,
        message=None if call else "no one is waiting for this window's services",
    )


def _ticket_action(number: int, action: Callable[..., Any], **kwargs: Any) -> Any:
    hall = current_hall()
    clerk = _clerk_at(number)
    expected = _field(_body(), "ticket", str, required=False)
    with _write() as s:
        result = action(s, number, clerk, hall.clock(), expected=expected, **kwargs)
        call = None
        if isinstance(result, tuple):  # recall answers with its call event
            ticket, event = result
            call = queue.call_view(event, ticket.number, ticket.service_code,
                                   s.get(Window, number).zone_code)
    return jsonify(_after_window_change(number, call))


@bp.post("/windows/<int:number>/recall")
def recall(number: int) -> Any:
    return _ticket_action(number, queue.recall)


@bp.post("/windows/<int:number>/no-show")
def no_show(number: int) -> Any:
    hall = current_hall()
    return _ticket_action(
        number, lambda s, n, c, now, expected: queue.mark_no_show(s, hall.config, n, c, now, expected)
    )


@bp.post("/windows/<int:number>/start")
def start(number: int) -> Any:
    return _ticket_action(number, queue.start_service)


@bp.post("/windows/<int:number>/finish")
def finish(number: int) -> Any:
    return _ticket_action(number, queue.finish)


@bp.post("/windows/<int:number>/hand-over")
def hand_over(number: int) -> Any:
    """At the delivery window: the result of the case behind the ticket in hand is handed over."""
    hall = current_hall()
    clerk = _clerk_at(number)
    with _write() as s:
        case = delivery.hand_over(s, number, clerk, hall.clock())
        number_of_case = case.number
    view = _after_window_change(number)
    return jsonify(case_number=number_of_case, window=view)


@bp.post("/windows/<int:number>/transfer")
def transfer(number: int) -> Any:
    data = _body()
    return _ticket_action(
        number,
        queue.transfer,
        to_service=_field(data, "service", str, required=False),
        to_window=_field(data, "window", int, required=False),
    )


def _report_range() -> tuple[dt.date, dt.date]:
    """``from`` and ``to`` (default: today, and the same day as ``from``)."""
    hall = current_hall()
    today = hall_day(hall.clock(), hall.config.timezone)
    try:
        first = dt.date.fromisoformat(request.args.get("from", today.isoformat()))
        last = dt.date.fromisoformat(request.args.get("to", first.isoformat()))
    except ValueError as exc:
        raise InvalidInput("from/to must be dates like 2026-11-25", code="invalid_range") from exc
    return first, last


@bp.get("/reports/tickets")
def ticket_report() -> Any:
    """Per day/hour/service/window/clerk figures; ``format=csv`` for a spreadsheet."""
    hall = current_hall()
    first, last = _report_range()
    group_by = request.args.get("group_by", "service")
    with hall.db.read() as s:
        rows = reports.ticket_report(s, hall.config, first, last, group_by)
    if request.args.get("format") == "csv":
        filename = f"tickets-{group_by}-{first}-{last}.csv"
        return Response(
            "\ufeff" + reports.report_csv(reports.ReportRow, rows, group_by),  # BOM: Excel opens UTF-8 Chinese right
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename={filename}"},
        )
    return jsonify(group_by=group_by, first_day=first.isoformat(), last_day=last.isoformat(),
                   rows=[asdict(r) for r in rows])


@bp.get("/reports/cases")
def case_report() -> Any:
    """Per department: windows visited and materials per case, decisions against the limit."""
    hall = current_hall()
    first, last = _report_range()
    with hall.db.read() as s:
        rows = case_reports.case_report(
            s, IntakeRules.from_config(hall.config), first, last, hall.clock())
    if request.args.get("format") == "csv":
        return Response(
            "\ufeff" + reports.report_csv(case_reports.CaseRow, rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=cases-{first}-{last}.csv"},
        )
    return jsonify(first_day=first.isoformat(), last_day=last.isoformat(),
                   rows=[asdict(r) for r in rows])
