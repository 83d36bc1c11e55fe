"""Citizens: the kiosk, call screens, the ticket page on the phone, rating, appointments,
service guides and collecting a result.

Citizens need no login. The kiosk, call screens and rating pads are devices (an admin
issued each a token; managers and admins may open them too). Look-ups by a ticket token,
booking code or case number are limited per address on failure, so none can be guessed.

Pages are server-rendered shells; the live parts are small scripts in ``static/js``
talking to ``/api/v1`` and Socket.IO. Screens show ticket numbers and windows
only, never a citizen's name. Nothing is loaded from outside the hall's own
server: the Socket.IO client and the announcement clips are in ``static/``,
QR codes are drawn here.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import qrcode
import qrcode.image.svg
from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops import queue
from hall_ops.cases import delivery
from hall_ops.cases.catalogue import items_for_service, service_guide
from hall_ops.cases.intake import get_case
from hall_ops.clock import from_local, hall_day, to_local
from hall_ops.config import WEEKDAYS
from hall_ops.errors import NotFound
from hall_ops.evaluation import ratings
from hall_ops.evaluation.models import Rating
from hall_ops.licences import library
from hall_ops.printing import printer_for
from hall_ops.queue.models import Service, Ticket, Window
from hall_ops.queue.windows import missed_ticket
from hall_web.access import access, current_device
from hall_web.api import answers, api
from hall_web.context import current_hall
from hall_web.evaluation import scheme
from hall_web.i18n import current_language
from hall_web.licences import verify_url
from hall_web.request_helpers import layout, page_number, write
from hall_web.schemas.citizens import (
    Appointment,
    BookAppointment,
    Calls,
    CallsQuery,
    DeliveryCheckIn,
    HallLayout,
    ItemGuide,
    RatingPad,
    RejoinAtKiosk,
    RemoteCheckIn,
    RemoteTicket,
    ServiceInfo,
    ServiceItems,
    TakeTicket,
)
from hall_web.schemas.queue import QueueSnapshot, TicketStatus
from hall_web.security import framed_by_self, issue_limits, lookup_limits

bp = Blueprint("citizens", __name__)


def _rating_of(s: Session, ticket_id: int) -> dict[str, Any] | None:
    """The visit's rating as its citizen sees it again, or None."""
    rating = s.scalars(select(Rating).where(Rating.ticket_id == ticket_id)).first()
    hall = current_hall()
    return ratings.rating_view(rating, hall.rules, hall.clock()) if rating else None


def ticket_status_view(s: Session, ticket: Ticket, *, new: bool = False) -> dict[str, Any]:
    """The ticket as its holder sees it, with the case behind it and where to find it again.

    ``new``: issued in this request, so no case, licence or rating can point at it yet and
    none is looked up (three queries fewer on the kiosk's path)."""
    view = queue.status_of(s, current_hall().config, ticket)
    if new:
        view.update(case=None, licences=None, rating=None)
    else:
        view["case"] = delivery.delivery_view(s, ticket.id)
        view["licences"] = _holder_licences(s, view["case"])
        view["rating"] = _rating_of(s, ticket.id)
    token = ticket.status_token
    view["status_url"] = url_for("citizens.ticket_page", token=token, _external=True)
    view["print_url"] = url_for("citizens.ticket_print", token=token)
    view["qr_url"] = url_for("citizens.ticket_qr", token=token)
    return view


def _holder_licences(s: Session, case_view: dict[str, Any] | None) -> dict[str, Any] | None:
    """The applicant's e-licences and every department's use of them: the holder's to see (a
    case of another hall: that hall's library holds them)."""
    if case_view is None or case_view.get("from_hall"):
        return None
    case = get_case(s, case_view["case_number"])
    view = library.holder_view(s, case, current_hall().clock())
    for entry in view["licences"]:
        entry["verify_url"] = verify_url(entry["number"], entry["fragment"])
    return view


@bp.get("/")
@access("public")
def index() -> str:
    return render_template("index.html", layout=layout())


@bp.get("/kiosk")
@access("device", kinds=("kiosk",), also=("manager", "admin"))
def kiosk() -> str:
    hall = current_hall()
    hours = {day: hall.config.opening_hours.get(day) for day in WEEKDAYS}
    return render_template(
        "kiosk.html",
        layout=layout(),
        hall_open=hall.always_open or hall.config.is_open(hall.clock()),
        hours={day: f"{h[0]:%H:%M}–{h[1]:%H:%M}" if h else None for day, h in hours.items()},
        scheme=scheme(),
        printer=printer_for(hall.printers, device.scope if (device := current_device()) else None),
        sms=hall.silent_calling is not None,
        remote_tickets=hall.config.queue.remote_tickets,
    )


@bp.get("/screen")
@access("device", kinds=("screen",), scope_args=("zone", "window"), also=("manager", "admin"))
def screen() -> str:
    """One screen page for the hall, a zone (``?zone=``) or a single window (``?window=``)."""
    floor = layout()
    zone = request.args.get("zone")
    window = request.args.get("window")
    lang = current_language()
    if window is not None:
        number = page_number(window)
        if number not in {w["number"] for w in floor["windows"]}:
            abort(404)
        room, scope = f"window:{number}", gettext("Window %(n)s", n=number)
    elif zone:
        match = [z for z in floor["zones"] if z["code"] == zone]
        if not match:
            abort(404)
        room, scope = f"zone:{zone}", match[0]["name_en" if lang == "en" else "name_zh"]
    else:
        room, scope = "hall", gettext("Whole hall")
    return render_template("screen.html", room=room, scope=scope, layout=floor)

def _ticket_or_404(token: str) -> dict[str, Any]:
    hall = current_hall()
    with hall.db.read() as s:
        try:
            view = queue.ticket_status(s, hall.config, token)
        except NotFound:
            abort(404)
        view["case"] = delivery.delivery_view(s, view["id"])
        view["licences"] = _holder_licences(s, view["case"])
        view["rating"] = _rating_of(s, view["id"])
        return view


@bp.get("/pad")
@access("device", kinds=("pad",), scope_args=("window",), also=("manager", "admin"))
def rating_pad() -> str:
    """The rating pad beside a window (窗口评价器): rate the service just finished there."""
    window = page_number(request.args.get("window"))
    if window is None:
        abort(404)
    return render_template("pad.html", window=window, scheme=scheme())


@bp.get("/guide/<service_code>")
@access("public")
def guide(service_code: str) -> str:
    """The service guide of a queue service: what to bring, so nobody makes a second trip."""
    with current_hall().db.read() as s:
        try:
            items = [service_guide(s, item["code"]) for item in items_for_service(s, service_code)]
        except NotFound:
            abort(404)
        service = s.get(Service, service_code)
        return render_template("guide.html", service=service, items=items,
                               remote=current_hall().config.queue.remote_tickets)


@bp.get("/t/<token>")
@access("public")
@lookup_limits
def ticket_page(token: str) -> str:
    hall = current_hall()
    ticket = _ticket_or_404(token)
    by = ticket["check_in_by"]  # a remote ticket: check in at the hall by then (hall time)
    tz = hall.config.timezone
    check_in_by = f"{dt.datetime.fromisoformat(by).astimezone(tz):%H:%M}" if by else ""
    return render_template("ticket.html", ticket=ticket, scheme=scheme(), check_in_by=check_in_by,
                           sms=hall.silent_calling is not None,
                           notify_ahead=hall.config.queue.notify_ahead)


@bp.get("/tickets/<token>/print")
@access("public")
@lookup_limits
@framed_by_self
def ticket_print(token: str) -> str:
    """The 80 mm slip a kiosk's thermal printer prints (it prints itself on load)."""
    ticket = _ticket_or_404(token)
    taken = to_local(
        dt.datetime.fromisoformat(ticket["taken_at"]).replace(tzinfo=None),
        current_hall().config.timezone,
    )
    return render_template(
        "ticket_print.html", ticket=ticket, taken=f"{taken:%Y-%m-%d %H:%M}",
        status_url=url_for("citizens.ticket_page", token=token, _external=True),
    )


@bp.get("/qr/<token>.svg")
@access("public")
@lookup_limits
def ticket_qr(token: str) -> Response:
    """QR code of the ticket's status page, drawn here: no outside service, works offline."""
    _ticket_or_404(token)
    image = qrcode.make(
        url_for("citizens.ticket_page", token=token, _external=True),
        image_factory=qrcode.image.svg.SvgPathImage,
        box_size=10,
        border=2,
    )
    out = io.BytesIO()
    image.save(out)
    return Response(out.getvalue(), mimetype="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/api/v1/hall")
@access("public")
@api.validate(resp=answers(HTTP_200=HallLayout))
def hall_layout() -> Any:
    hall = current_hall()
    with hall.db.read() as s:
        floor = queue.hall_layout(s)
    return jsonify(
        name_zh=hall.config.name_zh,
        name_en=hall.config.name_en,
        open=hall.always_open or hall.config.is_open(hall.clock()),
        **floor,
    )


@bp.post("/api/v1/tickets")
@access("public")
@api.validate(resp=answers(HTTP_201=TicketStatus, errors=(404, 409)))
def take_ticket(json: TakeTicket) -> Any:
    hall = current_hall()
    with write() as s:
        ticket = queue.take_ticket(
            s, hall.config, json.service, hall.clock(), priority=json.priority or "normal",
            ignore_hours=hall.always_open, resident_id=json.resident_id,
        )
        view = ticket_status_view(s, ticket, new=True)
    return jsonify(view), 201


@bp.post("/api/v1/tickets/remote")
@access("public")
@issue_limits
@api.validate(resp=answers(HTTP_201=TicketStatus, errors=(404, 409)))
def take_remote_ticket(json: RemoteTicket) -> Any:
    """A ticket from the phone before arriving (where the hall allows it): it joins the queue
    only when checked in at the hall, and lapses otherwise. Every call counts against the
    address's look-up rate, so one phone cannot use up the day's numbers."""
    hall = current_hall()
    with write() as s:
        ticket = queue.take_ticket(s, hall.config, json.service, hall.clock(), remote=True,
                                   ignore_hours=hall.always_open)
        view = ticket_status_view(s, ticket, new=True)
    return jsonify(view), 201


@bp.post("/api/v1/tickets/check-in")
@access("device", kinds=("kiosk",), also=("manager",))
@lookup_limits
@api.validate(resp=answers(HTTP_200=TicketStatus, errors=(404, 409)))
def check_in_remote(json: RemoteCheckIn) -> Any:
    """A remote ticket's holder is at the hall: its QR code scanned at the kiosk."""
    hall = current_hall()
    token = json.token.strip().rstrip("/").rsplit("/", 1)[-1]
    with write() as s:
        ticket = queue.check_in_remote(s, hall.config, token, hall.clock())
        view = ticket_status_view(s, ticket)
    return jsonify(view)


@bp.get("/api/v1/tickets/<token>")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_200=TicketStatus, errors=(404,)))
def ticket_status(token: str) -> Any:
    hall = current_hall()
    with hall.db.read() as s:
        return jsonify(ticket_status_view(s, queue.ticket_by_token(s, token)))


@bp.post("/api/v1/tickets/<token>/cancel")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_200=TicketStatus, errors=(404, 409)))
def cancel_ticket(token: str) -> Any:
    hall = current_hall()
    with write() as s:
        view = ticket_status_view(s, queue.cancel_ticket(s, token, hall.clock()))
    return jsonify(view)


@bp.post("/api/v1/tickets/rejoin")
@access("device", kinds=("kiosk",), also=("manager",))
@lookup_limits
@api.validate(resp=answers(HTTP_200=TicketStatus, errors=(404, 409)))
def rejoin(json: RejoinAtKiosk) -> Any:
    """A missed (过号) ticket's holder is back: at the kiosk, with the number and the ticket's
    QR code, it waits again by the hall's policy (recorded, with the kiosk as origin)."""
    hall = current_hall()
    token = json.token.strip().rstrip("/").rsplit("/", 1)[-1]
    with write() as s:
        ticket = queue.ticket_by_token(s, token)
        if ticket.number != json.number.strip().upper():
            raise NotFound("no such ticket", code="unknown_ticket")
        ticket = missed_ticket(s, hall.config, ticket.number, hall.clock())
        queue.rejoin(s, hall.config, ticket, hall.clock(), via="kiosk")
        view = ticket_status_view(s, ticket)
    return jsonify(view)


@bp.post("/api/v1/deliveries/check-in")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_201=TicketStatus, errors=(404, 409)))
def delivery_check_in(json: DeliveryCheckIn) -> Any:
    """The citizen collects a result: case number + last four digits of the phone → a ticket."""
    hall = current_hall()
    with write() as s:
        ticket = delivery.check_in(
            s, hall.config, json.case_number, json.phone_last4,
            hall.clock(), ignore_hours=hall.always_open,
        )
        view = ticket_status_view(s, ticket)
    return jsonify(view), 201


@bp.get("/api/v1/windows/<int:number>/rating-pad")
@access("device", kinds=("pad",), scope_args=("window",), window_arg="number",
        also=("manager", "admin"))
@api.validate(resp=answers(HTTP_200=RatingPad, errors=(404,)))
def rating_pad_api(number: int) -> Any:
    """What the pad beside window ``number`` offers to rate: the service just finished there."""
    hall = current_hall()
    with hall.db.read() as s:
        if s.get(Window, number) is None:
            raise NotFound(f"no window {number}", code="unknown_window")
        ticket = ratings.awaiting_pad_rating(s, number, hall.clock())
        return jsonify(ticket={"number": ticket.number, "token": ticket.status_token}
                       if ticket else None)


@bp.post("/api/v1/appointments")
@access("public")
@api.validate(resp=answers(HTTP_201=Appointment, errors=(404,)))
def create_appointment(json: BookAppointment) -> Any:
    hall = current_hall()
    with write() as s:
        appointment = queue.create_appointment(
            s, json.service, from_local(json.slot_start, hall.config.timezone),
            json.slot_minutes, json.name, json.phone, hall.clock(),
        )
        tz = hall.config.timezone
        return jsonify(
            code=appointment.code,
            service=appointment.service_code,
            slot_start=to_local(appointment.slot_start, tz).isoformat(),
            slot_end=to_local(appointment.slot_end, tz).isoformat(),
        ), 201


@bp.post("/api/v1/appointments/<code>/check-in")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_201=TicketStatus, errors=(404, 409)))
def check_in(code: str) -> Any:
    hall = current_hall()
    with write() as s:
        ticket = queue.check_in(s, hall.config, code, hall.clock(), ignore_hours=hall.always_open)
        view = ticket_status_view(s, ticket)
    return jsonify(view), 201


@bp.get("/api/v1/queue")
@access("public")
@api.validate(resp=answers(HTTP_200=QueueSnapshot))
def queue_snapshot() -> Any:
    hall = current_hall()
    with hall.db.read() as s:
        return jsonify(queue.public_snapshot(queue.queue_snapshot(s, hall.config, hall.clock())))


@bp.get("/api/v1/calls")
@access("public")
@api.validate(resp=answers(HTTP_200=Calls))
def recent_calls(query: CallsQuery) -> Any:
    hall = current_hall()
    with hall.db.read() as s:
        calls = queue.recent_calls(
            s, query.limit or hall.config.queue.recent_calls_shown, zone=query.zone,
            window=query.window, day=hall_day(hall.clock(), hall.config.timezone),
        )
    return jsonify(calls=calls)


@bp.get("/api/v1/services/<code>")
@access("public")
@api.validate(resp=answers(HTTP_200=ServiceInfo, errors=(404,)))
def service(code: str) -> Any:
    with current_hall().db.read() as s:
        found = s.get(Service, code)
        if found is None:
            raise NotFound(f"unknown service {code!r}", code="unknown_service")
        return jsonify(code=found.code, letter=found.letter, name_zh=found.name_zh,
                       name_en=found.name_en, zone=found.zone_code, board=found.board)


@bp.get("/api/v1/services/<code>/items")
@access("public")
@api.validate(resp=answers(HTTP_200=ServiceItems, errors=(404,)))
def service_items(code: str) -> Any:
    with current_hall().db.read() as s:
        return jsonify(service=code, items=items_for_service(s, code))


@bp.get("/api/v1/items/<code>/guide")
@access("public")
@api.validate(resp=answers(HTTP_200=ItemGuide, errors=(404,)))
def item_guide(code: str) -> Any:
    with current_hall().db.read() as s:
        return jsonify(service_guide(s, code))
