"""Pages of one-window intake: the intake form, the routing slip, the back-office console,
the hand-off outbox.

Server-rendered shells like ``hall_web.pages``; the live parts are scripts
in ``static/js`` talking to ``/api/v1`` (``hall_web.intake_api``).
"""

from __future__ import annotations

import datetime as dt

import qrcode
import qrcode.image.svg
from flask import Blueprint, abort, render_template, request, session
from markupsafe import Markup
from sqlalchemy import select

from hall_ops.catalogue import ServiceItem
from hall_ops.clock import hall_day, to_local
from hall_ops.errors import NotFound
from hall_ops.intake import IntakeRules, routing_slip
from hall_ops.models import Clerk, Service, Window
from hall_web.context import current_hall

bp = Blueprint("intake_pages", __name__)

def _rules() -> IntakeRules:
    return IntakeRules.from_config(current_hall().config)


def _session_clerk_at(number: int) -> str | None:
    """The clerk this browser is logged in as at window ``number`` (the API's session cookie)."""
    clerk = session.get("clerk")
    return clerk if clerk and session.get("window") == number else None


@bp.get("/intake")
def intake() -> str:
    """The intake form at ``?window=<n>``: items of the window's services only."""
    number = request.args.get("window", "")
    if not number.isdigit():
        abort(404)
    hall = current_hall()
    with hall.db.read() as s:
        window = s.get(Window, int(number))
        if window is None:
            abort(404)
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
            clerk=_session_clerk_at(window.number),
            gap_due=gap_due.isoformat(),
        )


def _qr_svg(text: str) -> Markup:
    """The QR code drawn here as inline SVG: prints with the page, needs no outside service."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    return Markup(svg[svg.index("<svg"):])


@bp.get("/cases/<number>/slip")
def slip(number: str) -> str:
    """The printable routing slip (流转单); the applicant's identity is masked, it is paper."""
    hall = current_hall()
    with hall.db.read() as s:
        try:
            view = routing_slip(s, number, rules=_rules(), now=hall.clock())
        except NotFound:
            abort(404)
        clerk = s.get(Clerk, view["clerk"])
    accepted = to_local(
        dt.datetime.fromisoformat(view["accepted_at"]).replace(tzinfo=None), hall.config.timezone
    )
    return render_template(
        "routing_slip.html",
        slip=view,
        qr_svg=_qr_svg(view["case_number"]),
        accepted_local=f"{accepted:%Y-%m-%d %H:%M}",
        clerk_name=clerk.name if clerk else view["clerk"],
    )


def departments() -> list[dict[str, str]]:
    """Departments of the active catalogue, in catalogue order: who has a back-office console."""
    with current_hall().db.read() as s:
        rows = s.execute(
            select(ServiceItem.department_code, ServiceItem.department_name_zh)
            .where(ServiceItem.active.is_(True))
            .order_by(ServiceItem.position)
        ).all()
    seen: dict[str, str] = {}
    for code, name_zh in rows:
        seen.setdefault(code, name_zh)
    return [{"code": code, "name_zh": name_zh} for code, name_zh in seen.items()]


@bp.get("/backoffice")
def backoffice() -> str:
    known = departments()
    chosen = request.args.get("department")
    if chosen is not None and chosen not in {d["code"] for d in known}:
        abort(404)
    return render_template("backoffice.html", departments=known, department=chosen)


@bp.get("/admin/outbox")
def outbox() -> str:
    return render_template("outbox.html", departments=departments())
