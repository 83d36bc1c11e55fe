"""好差评 at the edge: citizens rate (ticket page, pad, kiosk, the notice's link) and add
to a rating; managers follow rectifications and read the figures; clerks appeal.

Pages: ``/r/<token>`` (rate a case's items from the link in the result notice),
``/manager/rectifications`` (list and detail: owner's steps, call-back, answer, appeal
decision), ``/manager/evaluation`` (figures with charts and CSV), ``/appeals?window=<n>``
(the clerk's bad ratings and the appeal form). API under ``/api/v1``. The channel of a
rating is the caller's device (pad, kiosk) or else the ticket page; the actor of every
step is the logged-in person (``request_helpers.actor``), never a body field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask_babel import gettext
from sqlalchemy import select

from hall_ops.cases.catalogue import ServiceItem
from hall_ops.clock import hall_day
from hall_ops.errors import Conflict, NotFound
from hall_ops.evaluation import figures as figure_rules
from hall_ops.evaluation import ratings, rectification
from hall_ops.evaluation.ratings import LEVELS, TAGS
from hall_ops.queue.models import Clerk
from hall_ops.reports.tickets import report_csv
from hall_web.access import access, current_device
from hall_web.api import answers, api
from hall_web.context import current_hall
from hall_web.request_helpers import actor, clerk_at, write
from hall_web.schemas.evaluation import (
    Appeal,
    AppealDecision,
    Contact,
    Figures,
    FiguresQuery,
    FollowUp,
    LinkCase,
    Rate,
    RatingView,
    RectificationQuery,
    Rectifications,
    RectificationView,
    Step,
)
from hall_web.security import lookup_limits

bp = Blueprint("evaluation", __name__)

def level_names() -> dict[int, str]:
    """The five levels in the request's language (gettext at call time: pybabel finds them)."""
    return {
        5: gettext("Very satisfied"),
        4: gettext("Satisfied"),
        3: gettext("Basically satisfied"),
        2: gettext("Dissatisfied"),
        1: gettext("Very dissatisfied"),
    }


def tag_names() -> dict[str, str]:
    return {
        "long_wait": gettext("Waited too long in line"),
        "slow_service": gettext("The service took too long"),
        "attitude": gettext("Unfriendly staff"),
        "unclear_guidance": gettext("What I needed was not explained clearly"),
        "too_many_materials": gettext("Too many documents were asked for"),
        "many_trips": gettext("I had to come more than once"),
        "not_done": gettext("My matter was not done"),
        "irregular_fees": gettext("Fees not in the rules"),
        "system_fault": gettext("The computer system failed"),
        "other": gettext("Other"),
    }


def scheme() -> dict[str, Any]:
    """Levels and tags in the page's language, for the rating forms and the pages' scripts."""
    levels, tags = level_names(), tag_names()
    assert set(levels) == set(LEVELS) and set(tags) == set(TAGS)
    return {
        "levels": [{"level": n, "code": LEVELS[n], "name": levels[n]} for n in LEVELS],
        "tags": [{"code": t, "name": tags[t]} for t in TAGS],
        "tag_levels": sorted(ratings.TAG_LEVELS),
        "bad_levels": sorted(ratings.BAD_LEVELS),
    }


def _today() -> dt.date:
    hall = current_hall()
    return hall_day(hall.clock(), hall.config.timezone)


def _channel() -> str:
    """The channel is what the caller is, not what it says: a pad, a kiosk, else a phone."""
    device = current_device()
    if device is not None and device.kind == "pad":
        return "window_pad"
    if device is not None and device.kind == "kiosk":
        return "kiosk"
    return "ticket_page"


# ---------------------------------------------------------------- citizens: a visit


@bp.post("/api/v1/tickets/<token>/rating")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_201=RatingView, errors=(404, 409)))
def rate_visit(token: str, json: Rate) -> Any:
    """Rate a finished visit (one rating per visit, from whichever channel comes first)."""
    hall = current_hall()
    now = hall.clock()
    with write() as s:
        rating = ratings.rate_visit(s, hall.rules, token, json.level, now, tags=json.tags,
                                    comment=json.comment, channel=_channel())
        view = ratings.rating_view(rating, hall.rules, now)
    return jsonify(view), 201


@bp.post("/api/v1/tickets/<token>/rating/follow-up")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_200=RatingView, errors=(404, 409)))
def follow_up_visit(token: str, json: FollowUp) -> Any:
    """追评: add to the visit's rating, once, within ``[evaluation] follow_up_days``."""
    hall = current_hall()
    now = hall.clock()
    with write() as s:
        rating = ratings.add_follow_up(s, hall.rules, ratings.rating_of_ticket(s, token),
                                       json.text, now)
        view = ratings.rating_view(rating, hall.rules, now)
    return jsonify(view)


# ---------------------------------------------------------------- citizens: the notice's link


@bp.get("/r/<token>")
@access("public")
@lookup_limits
def rating_link_page(token: str) -> str:
    """The page the result notice links to: rate each decided item of the case."""
    hall = current_hall()
    now = hall.clock()
    try:
        case_number = ratings.link_case(hall.link_secret, token, now)
    except NotFound:
        abort(404)
    except Conflict:  # expired: say so rather than "not found"
        return render_template("rate_case.html", expired=True, token=token, scheme=scheme())
    with hall.db.read() as s:
        items = ratings.item_ratings(s, hall.rules, case_number, now)
    return render_template("rate_case.html", expired=False, token=token,
                           case_number=case_number, items=items, scheme=scheme())


@bp.get("/api/v1/rating-links/<token>")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_200=LinkCase, errors=(404, 409)))
def rating_link(token: str) -> Any:
    hall = current_hall()
    now = hall.clock()
    case_number = ratings.link_case(hall.link_secret, token, now)
    with hall.db.read() as s:
        return jsonify(case_number=case_number,
                       items=ratings.item_ratings(s, hall.rules, case_number, now))


@bp.post("/api/v1/rating-links/<token>/items/<item_code>/rating")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_201=RatingView, errors=(404, 409)))
def rate_item(token: str, item_code: str, json: Rate) -> Any:
    hall = current_hall()
    now = hall.clock()
    case_number = ratings.link_case(hall.link_secret, token, now)
    with write() as s:
        rating = ratings.rate_item(s, hall.rules, case_number, item_code, json.level, now,
                                   tags=json.tags, comment=json.comment, channel="sms_link")
        view = ratings.rating_view(rating, hall.rules, now)
    return jsonify(view), 201


@bp.post("/api/v1/rating-links/<token>/items/<item_code>/follow-up")
@access("public")
@lookup_limits
@api.validate(resp=answers(HTTP_200=RatingView, errors=(404, 409)))
def follow_up_item(token: str, item_code: str, json: FollowUp) -> Any:
    hall = current_hall()
    now = hall.clock()
    case_number = ratings.link_case(hall.link_secret, token, now)
    with write() as s:
        rating = ratings.add_follow_up(
            s, hall.rules, ratings.rating_of_item(s, case_number, item_code), json.text, now)
        view = ratings.rating_view(rating, hall.rules, now)
    return jsonify(view)


# ---------------------------------------------------------------- managers


@bp.get("/manager/rectifications")
@access("manager")
def rectifications_page() -> str:
    return render_template("rectifications.html", scheme=scheme(), me=actor())


@bp.get("/api/v1/rectifications")
@access("manager")
@api.validate(resp=answers(HTTP_200=Rectifications))
def rectifications_api(query: RectificationQuery) -> Any:
    with current_hall().db.read() as s:
        return jsonify(rectifications=rectification.listing(s, _today(), status=query.status))


@bp.get("/api/v1/rectifications/<int:rectification_id>")
@access("manager")
@api.validate(resp=answers(HTTP_200=RectificationView, errors=(404,)))
def rectification_api(rectification_id: int) -> Any:
    with current_hall().db.read() as s:
        row = rectification.get(s, rectification_id)
        return jsonify(rectification.view(s, row, _today(), events=True))


@bp.get("/api/v1/rectifications/<int:rectification_id>/contact")
@access("manager")
@api.validate(resp=answers(HTTP_200=Contact, errors=(403, 404)))
def rectification_contact(rectification_id: int) -> Any:
    """The citizen's name and phone for the call-back: to the owner only, and logged."""
    hall = current_hall()
    with write() as s:
        return jsonify(rectification.contact(s, rectification_id, actor(), hall.clock()))


@bp.post("/api/v1/rectifications/<int:rectification_id>/<any(rectify, 'call-back', answer):step>")
@access("manager")
@api.validate(resp=answers(HTTP_200=RectificationView, errors=(403, 404, 409)))
def rectification_step(rectification_id: int, step: str, json: Step) -> Any:
    """The owner records the measures, the call-back or the answer (each once)."""
    hall = current_hall()
    now = hall.clock()
    with write() as s:
        row = rectification.act(s, hall.rules, rectification_id, step.replace("-", "_"),
                                actor(), now, text=json.text, reached=json.reached)
        return jsonify(rectification.view(s, row, _today(), events=True))


@bp.post("/api/v1/rectifications/<int:rectification_id>/appeal/<any(accept, reject):decision>")
@access("manager")
@api.validate(resp=answers(HTTP_200=RectificationView, errors=(403, 404, 409)))
def appeal_decision(rectification_id: int, decision: str, json: AppealDecision) -> Any:
    """A manager accepts (the rating leaves the clerk's figures) or rejects a clerk's appeal."""
    hall = current_hall()
    now = hall.clock()
    with write() as s:
        row = rectification.decide_appeal(s, hall.rules, rectification_id,
                                          decision == "accept", actor(), json.note, now)
        return jsonify(rectification.view(s, row, _today(), events=True))


@bp.get("/manager/evaluation")
@access("manager")
def figures_page() -> str:
    today = _today()

    def day(name: str, default: dt.date) -> str:
        try:
            return dt.date.fromisoformat(request.args.get(name, "")).isoformat()
        except ValueError:
            return default.isoformat()

    with current_hall().db.read() as s:
        clerks = [{"id": c.id, "name": c.name} for c in s.scalars(select(Clerk).order_by(Clerk.id))]
        catalogue = s.scalars(select(ServiceItem)).all()
        items = {i.code: {"name_zh": i.name_zh, "name_en": i.name_en} for i in catalogue}
        departments = {i.department_code: i.department_name_zh for i in catalogue}
    return render_template("evaluation.html", last_day=day("to", today), clerks=clerks,
                           items=items, departments=departments,
                           first_day=day("from", today - dt.timedelta(days=29)))


@bp.get("/api/v1/reports/ratings")
@access("manager")
@api.validate(resp=answers(HTTP_200=Figures))
def figures_api(query: FiguresQuery) -> Any:
    """Rating rate, good-rating rate, rectified on time and call-back rate per group;
    ``format=csv`` for a spreadsheet."""
    hall = current_hall()
    today = _today()
    first = query.from_ or today
    last = query.to or first
    with hall.db.read() as s:
        rows = figure_rules.figures(s, hall.rules, first, last, query.group_by, today)
    if query.format == "csv":
        return Response(
            "\ufeff" + report_csv(figure_rules.FigureRow, rows, query.group_by),
            mimetype="text/csv",
            headers={"Content-Disposition":
                     f"attachment; filename=ratings-{query.group_by}-{first}-{last}.csv"},
        )
    return jsonify(group_by=query.group_by, first_day=first.isoformat(),
                   last_day=last.isoformat(), rows=[asdict(r) for r in rows])


# ---------------------------------------------------------------- clerks


@bp.get("/appeals")
@access("clerk_at_window", window_arg="window")
def appeals_page() -> str:
    """The clerk's bad ratings at ``?window=<n>`` and the appeal form."""
    return render_template("appeals.html", window=int(request.args["window"]), scheme=scheme())


@bp.get("/api/v1/windows/<int:number>/rectifications")
@access("clerk_at_window")
@api.validate(resp=answers(HTTP_200=Rectifications))
def clerk_rectifications(number: int) -> Any:
    """The rectifications of the bad ratings attributed to the clerk at this window."""
    clerk = clerk_at(number)
    with current_hall().db.read() as s:
        return jsonify(rectifications=rectification.listing(s, _today(), clerk=clerk))


@bp.post("/api/v1/windows/<int:number>/rectifications/<int:rectification_id>/appeal")
@access("clerk_at_window")
@api.validate(resp=answers(HTTP_200=RectificationView, errors=(403, 404, 409)))
def appeal(number: int, rectification_id: int, json: Appeal) -> Any:
    """The clerk appeals a bad rating of theirs, once, with the evidence."""
    hall = current_hall()
    clerk = clerk_at(number)
    with write() as s:
        row = rectification.appeal(s, rectification_id, clerk, json.reason, json.evidence,
                                   hall.clock())
        return jsonify(rectification.view(s, row, _today()))

