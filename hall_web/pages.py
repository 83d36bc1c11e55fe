"""Pages of the hall: kiosk, call screen, clerk console, ticket status, manager overview.

Server-rendered shells; the live parts are small scripts in ``static/js``
talking to ``/api/v1`` and Socket.IO. Screens show ticket numbers and windows
only, never a citizen's name.
"""

from __future__ import annotations

import io
from typing import Any

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, abort, render_template, request, url_for

from hall_ops import queue
from hall_ops.errors import NotFound
from hall_web.context import current_hall
from hall_web.i18n import LANGUAGES, catalogue, current_language, translate

bp = Blueprint("pages", __name__)


@bp.app_context_processor
def page_globals() -> dict[str, Any]:
    lang = current_language()
    hall = current_hall().config
    return {
        "lang": lang,
        "other_lang": LANGUAGES[1 - LANGUAGES.index(lang)],
        "t": lambda key, **values: translate(key, lang, **values),
        "messages": catalogue(lang),
        "hall_name": hall.name_zh if lang == "zh" else hall.name_en,
        "hall_timezone": hall.timezone.key,
    }


@bp.after_app_request
def remember_language(response: Response) -> Response:
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def _layout() -> dict[str, Any]:
    with current_hall().db.read() as s:
        return queue.hall_layout(s)


@bp.get("/")
def index() -> str:
    return render_template("index.html", layout=_layout())


@bp.get("/kiosk")
def kiosk() -> str:
    return render_template("kiosk.html", layout=_layout())


@bp.get("/screen")
def screen() -> str:
    zone = request.args.get("zone")
    window = request.args.get("window")
    if window is not None and window.isdigit():
        room = f"window:{int(window)}"
    elif zone:
        room = f"zone:{zone}"
    else:
        room = "hall"
    layout = _layout()
    if zone and zone not in {z["code"] for z in layout["zones"]}:
        abort(404)
    return render_template("screen.html", room=room, layout=layout)


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
            return queue.ticket_status(s, hall.config, token)
        except NotFound:
            abort(404)


@bp.get("/t/<token>")
def ticket_page(token: str) -> str:
    return render_template("ticket.html", ticket=_ticket_or_404(token))


@bp.get("/tickets/<token>/print")
def ticket_print(token: str) -> str:
    ticket = _ticket_or_404(token)
    return render_template(
        "ticket_print.html", ticket=ticket,
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
