"""Clerks: the console at a window (call, recall, skip, serve, transfer, hand over), the
intake form and routing slip, and the intake API. A clerk logs in at a window with their
PIN (checked against the staff table, with lockout) and every window action needs the
clerk logged in at that window. The applicant's identity is unmasked to the accepting
clerk and the approvers of the case's departments only, and each such read is logged.

Views run one domain function in one write transaction; what screens must learn
is published by the domain's events after the commit (``displays``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import qrcode
import qrcode.image.svg
from flask import (
    Blueprint,
    abort,
    jsonify,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops import queue
from hall_ops.cases import crosshall, delivery
from hall_ops.cases.destination import change_destination, destination_view
from hall_ops.cases.intake import (
    Applicant,
    IntakeRules,
    create_intake,
    get_case,
    record_supplement,
    ticket_at_window,
)
from hall_ops.cases.models import Case
from hall_ops.cases.slip import routing_slip
from hall_ops.clock import hall_day, to_local
from hall_ops.errors import NotFound, Unauthorized
from hall_ops.queue.models import Clerk, Service, Ticket, Window
from hall_ops.queue.records import get_window
from hall_ops.queue.windows import missed_ticket
from hall_ops.screens import reach
from hall_ops.staff import log as security_log
from hall_ops.staff.policy import hall_code
from hall_web.access import access, current_staff
from hall_web.api import answers, api
from hall_web.auth import check_window_pin, end_session, record_unmasked_read, start_window_session
from hall_web.context import current_hall
from hall_web.request_helpers import attached_licences, clerk_at, destination_of, layout, write
from hall_web.schemas.clerks import (
    CallChosen,
    CallNext,
    CaseView,
    ChangeDelivery,
    Clerks,
    HandOver,
    HandOverBody,
    Intake,
    IntakeAccepted,
    Mailing,
    Pause,
    RejoinAtWindow,
    Supplement,
    TicketGuard,
    TicketIdentity,
    Transfer,
    WindowLogin,
)
from hall_web.schemas.queue import WindowView
from hall_web.schemas.socketio import Reach
from hall_web.security import login_limits

bp = Blueprint("clerks", __name__)

WINDOW_ACTION = answers(HTTP_200=WindowView, errors=(401, 404, 409))


def window_answer(number: int) -> dict[str, Any]:
    """The window as it now is, after the commit: what the console redraws."""
    hall = current_hall()
    with hall.db.read() as s:
        return queue.window_view(s, hall.config, number, hall.clock())


@bp.get("/clerk")
@access("public")
def clerk() -> str:
    return render_template("clerk.html", layout=layout(), other_halls=_other_halls())


def _other_halls() -> list[dict[str, str]]:
    """The deployment's other halls a result may be collected at (none for a single hall)."""
    return [{"code": h.code, "name_zh": h.name_zh, "name_en": h.name_en}
            for h in current_hall().other_halls()]

def _rules() -> IntakeRules:
    return current_hall().config.intake_rules

@bp.get("/intake")
@access("clerk_at_window", window_arg="window")
def intake() -> str:
    """The intake form at ``?window=<n>``, for the clerk at that window (the access rule
    admitted no one else): items of the window's services only."""
    hall = current_hall()
    with hall.db.read() as s:
        window = get_window(s, int(request.args["window"]))
        services = [
            {"code": svc.code, "letter": svc.letter, "name_zh": svc.name_zh, "name_en": svc.name_en}
            for code in window.service_codes
            if (svc := s.get(Service, code)) is not None
        ]
        rules = _rules()
        gap_due = rules.calendar.add_working_days(
            hall_day(hall.clock(), rules.timezone), rules.supplement_working_days
        )
        return render_template(
            "intake.html",
            window=window,
            services=services,
            clerk=clerk_at(window.number),
            gap_due=gap_due.isoformat(),
            upload_types=list(hall.config.sections.materials.types),
            upload_max=hall.config.sections.materials.max_bytes,
            other_halls=_other_halls(),
        )


def _qr_svg(text: str) -> Markup:
    """The QR code drawn here as inline SVG: prints with the page, needs no outside service."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    return Markup(svg[svg.index("<svg"):])


@bp.get("/cases/<number>/slip")
@access("clerk", also=("approver",))
def slip(number: str) -> str:
    """The printable routing slip (流转单); the applicant's identity is masked, it is paper."""
    hall = current_hall()
    with hall.db.read() as s:
        try:
            view = routing_slip(s, number, rules=_rules(), now=hall.clock())
        except NotFound:
            abort(404)
        clerk = s.get(Clerk, view["clerk"])
        names = {h.code: (h.name_zh, h.name_en) for h in hall.other_halls()}
        destination = destination_view(s, get_case(s, number), unmasked=False, names=names)
    accepted = to_local(
        dt.datetime.fromisoformat(view["accepted_at"]).replace(tzinfo=None), hall.config.timezone
    )
    return render_template(
        "routing_slip.html",
        slip=view,
        qr_svg=_qr_svg(view["case_number"]),
        accepted_local=f"{accepted:%Y-%m-%d %H:%M}",
        clerk_name=clerk.name if clerk else view["clerk"],
        destination=destination,
    )


@bp.get("/api/v1/clerks")
@access("manager", also=("admin",))
@api.validate(resp=answers(HTTP_200=Clerks))
def clerks() -> Any:
    with current_hall().db.read() as s:
        rows = s.scalars(select(Clerk).order_by(Clerk.id)).all()
        return jsonify(clerks=[{"id": c.id, "name": c.name} for c in rows])


@bp.get("/api/v1/windows/<int:number>")
@access("clerk_at_window", also=("manager",))
@api.validate(resp=answers(HTTP_200=WindowView, errors=(404,)))
def window_view(number: int) -> Any:
    with current_hall().db.read() as s:
        return jsonify(queue.window_view(s, current_hall().config, number, current_hall().clock()))


@bp.get("/api/v1/windows/<int:number>/ticket-identity")
@access("clerk_at_window")
@api.validate(resp=answers(HTTP_200=TicketIdentity, errors=(401, 404, 409)))
def ticket_identity(number: int) -> Any:
    """The resident ID the ticket in hand was taken with, whole, to pre-fill the intake form
    of the clerk serving it; that read is logged like every unmasked read."""
    hall = current_hall()
    clerk = clerk_at(number)
    with write() as s:
        ticket = ticket_at_window(s, number, None, clerk)
        if ticket.resident_id_number:
            security_log.log_personal_data_read(
                s, clerk, f"ticket:{ticket.id}", hall.clock(), fields=("id_number",),
                purpose="intake pre-filled from ticket")
        return jsonify(ticket=ticket.number, id_number=ticket.resident_id_number)


@bp.post("/api/v1/windows/<int:number>/login")
@access("public")
@login_limits
@api.validate(resp=answers(HTTP_200=WindowView, errors=(401, 404, 409)))
def window_login(number: int, json: WindowLogin) -> Any:
    """The clerk's PIN, checked against the staff table (lockout, limits), then the window."""
    hall = current_hall()
    found = check_window_pin(number, json.clerk, json.pin)
    with write() as s:
        queue.open_window(s, number, found.login, hall.clock())
    start_window_session(found, number)
    return jsonify(window_answer(number))


@bp.post("/api/v1/windows/<int:number>/logout")
@access("clerk_at_window")
@api.validate(resp=answers(HTTP_200=WindowView, errors=(401, 404, 409)))
def window_logout(number: int) -> Any:
    clerk = clerk_at(number)
    with write() as s:
        queue.close_window(s, number, clerk, current_hall().clock())
    end_session()
    return jsonify(window_answer(number))


@bp.post("/api/v1/windows/<int:number>/pause")
@access("clerk_at_window")
@api.validate(resp=answers(HTTP_200=WindowView, errors=(401, 404, 409)))
def window_pause(number: int, json: Pause) -> Any:
    """Pause with a reason (break, meeting, system fault; the reports count them) or resume."""
    clerk = clerk_at(number)
    with write() as s:
        queue.pause_window(s, number, clerk, json.paused, current_hall().clock(), json.reason)
    return jsonify(window_answer(number))


@bp.post("/api/v1/windows/<int:number>/call-next")
@access("clerk_at_window")
@api.validate(resp=answers(HTTP_200=CallNext, errors=(401, 404, 409)))
def call_next(number: int) -> Any:
    hall = current_hall()
    clerk = clerk_at(number)
    with write() as s:
        ticket, event = queue.call_next(s, hall.config, number, clerk, hall.clock())
        call = (
            queue.call_view(event, ticket.number, ticket.service_code,
                            s.get(Window, number).zone_code)
            if ticket and event
            else None
        )
    view = window_answer(number)
    return jsonify(
        ticket=view["ticket"],
        call=call,
        window=view,
        message=None if call else "no one is waiting for this window's services",
    )

@bp.post("/api/v1/windows/<int:number>/call")
@access("clerk_at_window")
@api.validate(resp=answers(HTTP_200=CallNext, errors=(401, 404, 409)))
def call_chosen(number: int, json: CallChosen) -> Any:
    """Call a chosen waiting number out of order, with a reason (kept in its history)."""
    hall = current_hall()
    clerk = clerk_at(number)
    with write() as s:
        ticket, event = queue.call_ticket(s, hall.config, number, clerk, hall.clock(),
                                          json.ticket, json.reason)
        call = queue.call_view(event, ticket.number, ticket.service_code,
                               s.get(Window, number).zone_code)
    view = window_answer(number)
    return jsonify(ticket=view["ticket"], call=call, window=view, message=None)


@bp.post("/api/v1/windows/<int:number>/rejoin")
@access("clerk_at_window")
@api.validate(resp=WINDOW_ACTION)
def rejoin(number: int, json: RejoinAtWindow) -> Any:
    """A missed ticket's holder came back to this window: it waits again by the hall's
    policy (``[queue] rejoin_position``), recorded with this clerk and window."""
    hall = current_hall()
    clerk = clerk_at(number)
    with write() as s:
        ticket = missed_ticket(s, hall.config, json.ticket, hall.clock())
        queue.rejoin(s, hall.config, ticket, hall.clock(), via="window", clerk_id=clerk,
                     window=number)
    return jsonify(window_answer(number))


def _ticket_action(
    number: int, expected: str | None, action: Callable[..., Any], **kwargs: Any
) -> Any:
    hall = current_hall()
    clerk = clerk_at(number)
    with write() as s:
        action(s, number, clerk, hall.clock(), expected=expected, **kwargs)
    return jsonify(window_answer(number))


@bp.post("/api/v1/windows/<int:number>/recall")
@access("clerk_at_window")
@api.validate(resp=WINDOW_ACTION)
def recall(number: int, json: TicketGuard) -> Any:
    return _ticket_action(number, json.ticket, queue.recall)


@bp.get("/api/v1/windows/<int:number>/reach")
@access("clerk_at_window", also=("manager",))
@api.validate(resp=answers(HTTP_200=Reach, errors=(404,)))
def call_reach(number: int) -> Any:
    """The window's latest call: how many of its screens reported showing and speaking it."""
    hall = current_hall()
    with hall.db.read() as s:
        get_window(s, number)
        return jsonify(reach.call_reach(s, hall_code(hall.config), hall.config.timezone, number,
                                        hall.clock()))


@bp.post("/api/v1/windows/<int:number>/reannounce")
@access("clerk_at_window")
@api.validate(resp=answers(HTTP_200=Reach, errors=(401, 404, 409)))
def reannounce(number: int, json: TicketGuard) -> Any:
    """Show and speak the current call again on the screens (not a recall; audited)."""
    hall = current_hall()
    clerk = clerk_at(number)
    with write() as s:
        reach.reannounce(s, number, clerk, hall.clock(), json.ticket)
    with hall.db.read() as s:
        return jsonify(reach.call_reach(s, hall_code(hall.config), hall.config.timezone, number,
                                        hall.clock()))


@bp.post("/api/v1/windows/<int:number>/no-show")
@access("clerk_at_window")
@api.validate(resp=WINDOW_ACTION)
def no_show(number: int, json: TicketGuard) -> Any:
    hall = current_hall()
    return _ticket_action(
        number, json.ticket,
        lambda s, n, c, now, expected: queue.mark_no_show(s, hall.config, n, c, now, expected),
    )


@bp.post("/api/v1/windows/<int:number>/start")
@access("clerk_at_window")
@api.validate(resp=WINDOW_ACTION)
def start(number: int, json: TicketGuard) -> Any:
    return _ticket_action(number, json.ticket, queue.start_service)


@bp.post("/api/v1/windows/<int:number>/finish")
@access("clerk_at_window")
@api.validate(resp=WINDOW_ACTION)
def finish(number: int, json: TicketGuard) -> Any:
    return _ticket_action(number, json.ticket, queue.finish)


@bp.post("/api/v1/windows/<int:number>/hand-over")
@access("clerk_at_window")
@api.validate(resp=answers(HTTP_200=HandOver, errors=(401, 404, 409)))
def hand_over(number: int, json: HandOverBody) -> Any:
    """At the delivery window: the result of the case behind the ticket in hand is handed over.
    With a gap material still outstanding: refused (409 ``gaps_outstanding``) unless
    ``confirm_gaps`` and a ``reason``, which go into the items' history."""
    hall = current_hall()
    clerk = clerk_at(number)
    with write() as s:
        number_of_case, incoming = delivery.hand_over_result(
            s, number, clerk, hall.clock(), confirm_gaps=bool(json.confirm_gaps),
            reason=json.reason)
        incoming_id = incoming.id if incoming is not None else None
    if incoming_id is not None and hall.directory is not None:
        # A result of another hall: its case learns of it now (the job retries a failure).
        crosshall.report_deliveries(hall.db, hall.directory, hall.code, hall.clock(),
                                    only=incoming_id)
    return jsonify(case_number=number_of_case, window=window_answer(number))


@bp.post("/api/v1/windows/<int:number>/transfer")
@access("clerk_at_window")
@api.validate(resp=WINDOW_ACTION)
def transfer(number: int, json: Transfer) -> Any:
    return _ticket_action(
        number, json.ticket, queue.transfer, to_service=json.service, to_window=json.window
    )


@bp.post("/api/v1/windows/<int:number>/intake")
@access("clerk_at_window")
@api.validate(resp=answers(HTTP_201=IntakeAccepted, errors=(401, 404, 409)))
def intake_api(number: int, json: Intake) -> Any:
    """Accept items for the ticket being served at window ``number`` by this session's clerk.

    ``ticket`` (optional): the ticket number the clerk's page shows; if the
    window has moved on to another ticket the intake is refused, so a case is
    never tied to the wrong citizen.
    """
    hall = current_hall()
    clerk = clerk_at(number)
    applicant = Applicant(**json.applicant.model_dump())
    destination = destination_of(json.delivery)
    with write() as s:
        ticket = ticket_at_window(s, number, json.ticket)
        case = create_intake(
            s, _rules(), ticket_id=ticket.id, window_number=number, clerk_id=clerk,
            applicant=applicant, item_codes=json.items, received=json.received,
            e_licences=json.e_licences, now=hall.clock(),
            licences=attached_licences(json.licences), consent=json.licence_consent,
            destination=destination,
        )
        case_number = case.number
    return jsonify(
        case_number=case_number,
        slip_url=url_for("clerks.slip", number=case_number),
        case_url=url_for("clerks.case_view", number=case_number),
    ), 201

def _sees_identity(clerk_id: str, departments: set[str]) -> bool:
    """The accepting clerk and the approvers of the case's departments see it unmasked."""
    user = current_staff()
    return user is not None and (
        user.login == clerk_id and user.has_role("clerk")
        or any(user.has_role("approver", department=d) for d in departments)
    )


def _case_view(s: Session, number: str) -> dict[str, Any]:
    """The routing slip's view plus history; identity unmasked only for who may see it
    (the caller logs that read with ``record_unmasked_read``)."""
    hall = current_hall()
    view = routing_slip(s, number, rules=_rules(), now=hall.clock())
    case = get_case(s, number)
    ticket = s.get(Ticket, case.ticket_id)
    view["ticket"] = ticket.number if ticket else None
    view["masked"] = not _sees_identity(case.clerk_id, {i.department_code for i in case.items})
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
    view["slip_url"] = url_for("clerks.slip", number=number)
    names = {h.code: (h.name_zh, h.name_en) for h in hall.other_halls()}
    whole = _sees_address(s, case, view["masked"])
    view["delivery"] = destination_view(s, case, unmasked=whole, names=names)
    view["_address_whole"] = whole and case.delivery_address is not None
    return view


def _sees_address(s: Session, case: Case, masked: bool) -> bool:
    """The postal address whole: to who sees the identity, and to a clerk while a result by
    post waits to be mailed (they write the envelope); the caller logs the read."""
    if not masked:
        return True
    user = current_staff()
    if case.delivery_mode != "post" or user is None or not user.has_role("clerk"):
        return False
    return delivery.awaits_mailing(s, case)


@bp.get("/api/v1/cases/<number>")
@access("clerk", also=("approver",))
@api.validate(resp=answers(HTTP_200=CaseView, errors=(404,)))
def case_view(number: str) -> Any:
    return jsonify(_answer_case(number, "case view"))


def _window_clerk() -> tuple[int, str]:
    """The window and clerk of this session (a clerk logged in at a window)."""
    user = current_staff()
    window_number = user.window if user is not None else None
    if window_number is None:
        raise Unauthorized("log in at a window first", code="not_logged_in")
    return window_number, clerk_at(window_number)


def _answer_case(number: str, purpose: str) -> Any:
    """The case's view after the change, each unmasked read of it logged."""
    with current_hall().db.read() as s:
        view = _case_view(s, number)
    fields = (() if view["masked"] else ("name", "id_number", "phone")) + (
        ("address",) if view.pop("_address_whole") else ())
    if fields:
        record_unmasked_read(number, fields=fields, purpose=purpose)
    return view


@bp.post("/api/v1/cases/<number>/delivery")
@access("clerk")
@api.validate(resp=answers(HTTP_200=CaseView, errors=(401, 404, 409)))
def change_delivery(number: str, json: ChangeDelivery) -> Any:
    """The citizen asks at a window to collect the result elsewhere or have it mailed: the
    clerk at that window records it (refused once the result left: 409)."""
    hall = current_hall()
    _, clerk = _window_clerk()
    destination = destination_of(json)
    with write() as s:
        change_destination(s, number, destination, clerk, hall.clock(), json.reason)
    return jsonify(_answer_case(number, "delivery changed"))


@bp.post("/api/v1/cases/<number>/mailing")
@access("clerk")
@api.validate(resp=answers(HTTP_200=CaseView, errors=(401, 404, 409)))
def record_mailing(number: str, json: Mailing) -> Any:
    """By post: the result was mailed with this tracking number; the items are delivered and
    the citizen's notice (naming the number) follows."""
    hall = current_hall()
    _, clerk = _window_clerk()
    with write() as s:
        delivery.record_mailing(s, number, json.tracking_number, clerk, hall.clock(),
                                confirm_gaps=bool(json.confirm_gaps), reason=json.reason)
    return jsonify(_answer_case(number, "mailing recorded"))


@bp.post("/api/v1/cases/<number>/supplements")
@access("clerk")
@api.validate(resp=answers(HTTP_201=CaseView, errors=(401, 404, 409)))
def supplement(number: str, json: Supplement) -> Any:
    """A missing material arrived. A clerk logged in at a window records it; with ``ticket``
    (the number being served at that window) it counts as the applicant's window visit,
    without it (post, online) it does not."""
    hall = current_hall()
    window_number, clerk = _window_clerk()
    with write() as s:
        ticket_id = None
        if json.ticket is not None:
            ticket_id = ticket_at_window(s, window_number, json.ticket, clerk).id
        record_supplement(
            s, number, json.material, hall.clock(), ticket_id=ticket_id,
            e_licence=bool(json.e_licence), licence=json.licence,
            consent=json.licence_consent, actor=clerk,
        )
    return jsonify(_answer_case(number, "supplement")), 201
