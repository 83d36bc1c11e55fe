"""Pages of the hall: kiosk, call screen, clerk console, ticket status, manager overview.

Server-rendered shells; the live parts are small scripts in ``static/js``
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
from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext

from hall_ops import delivery, queue
from hall_ops.catalogue import items_for_service, service_guide
from hall_ops.models import Service
from hall_ops.clock import to_local
from hall_ops.config import WEEKDAYS
from hall_ops.errors import NotFound
from hall_web.context import current_hall
from hall_web.i18n import current_language

bp = Blueprint("pages", __name__)


def _layout() -> dict[str, Any]:
    with current_hall().db.read() as s:
        return queue.hall_layout(s)


@bp.get("/")
def index() -> str:
    return render_template("index.html", layout=_layout())


@bp.get("/kiosk")
def kiosk() -> str:
    hall = current_hall()
    hours = {day: hall.config.opening_hours.get(day) for day in WEEKDAYS}
    return render_template(
        "kiosk.html",
        layout=_layout(),
        hall_open=hall.always_open or hall.config.is_open(hall.clock()),
        hours={day: f"{h[0]:%H:%M}–{h[1]:%H:%M}" if h else None for day, h in hours.items()},
    )


@bp.get("/screen")
def screen() -> str:
    """One screen page for the hall, a zone (``?zone=``) or a single window (``?window=``)."""
    layout = _layout()
    zone = request.args.get("zone")
    window = request.args.get("window")
    lang = current_language()
    if window is not None:
        if not window.isdigit() or int(window) not in {w["number"] for w in layout["windows"]}:
            abort(404)
        room, scope = f"window:{int(window)}", gettext("Window %(n)s", n=int(window))
    elif zone:
        match = [z for z in layout["zones"] if z["code"] == zone]
        if not match:
            abort(404)
        room, scope = f"zone:{zone}", match[0]["name_en" if lang == "en" else "name_zh"]
    else:
        room, scope = "hall", gettext("Whole hall")
    return render_template("screen.html", room=room, scope=scope, layout=layout)


@bp.get("/clerk")
def clerk() -> str:
    return render_template("clerk.html", layout=_layout())


@bp.get("/manager")
def manager() -> str:
    return render_template("manager.html", layout=_layout())


def _ticket_or_404(token: str) -> dict[str, Any]:
    hall = current_hall()
    with hall.db.read() as s:
        try:
            view = queue.ticket_status(s, hall.config, token)
        except NotFound:
            abort(404)
        view["case"] = delivery.delivery_view(s, view["id"])
        return view


@bp.get("/pad")
def rating_pad() -> str:
    """The rating pad beside a window (窗口评价器): rate the service just finished there."""
    window = request.args.get("window", "")
    if not window.isdigit():
        abort(404)
    return render_template("pad.html", window=int(window))


@bp.get("/guide/<service_code>")
def guide(service_code: str) -> str:
    """The service guide of a queue service: what to bring, so nobody makes a second trip."""
    with current_hall().db.read() as s:
        try:
            items = [service_guide(s, item["code"]) for item in items_for_service(s, service_code)]
        except NotFound:
            abort(404)
        service = s.get(Service, service_code)
        return render_template("guide.html", service=service, items=items)


@bp.get("/t/<token>")
def ticket_page(token: str) -> str:
    return render_template("ticket.html", ticket=_ticket_or_404(token))


@bp.get("/tickets/<token>/print")
def ticket_print(token: str) -> str:
    """The 80 mm slip a kiosk's thermal printer prints (it prints itself on load)."""
    ticket = _ticket_or_404(token)
    taken = to_local(
        dt.datetime.fromisoformat(ticket["taken_at"]).replace(tzinfo=None),
        current_hall().config.timezone,
    )
    return render_template(
        "ticket_print.html", ticket=ticket, taken=f"{taken:%Y-%m-%d %H:%M}",
        status_url=url_for("pages.ticket_page", token=token, _external=True),
    )


@bp.get("/qr/<token>.svg")
def ticket_qr(token: str) -> Response:
    """QR code of the ticket's status page, drawn here: no outside service, works offline."""
    _ticket_or_404(token)
    image = qrcode.make(
        url_for("pages.ticket_page", token=token, _external=True),
        image_factory=qrcode.image.svg.SvgPathImage,
        box_size=10,
        border=2,
    )
    out = io.BytesIO()
    image.save(out)
    return Response(out.getvalue(), mimetype="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})
