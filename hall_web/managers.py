"""Managers: the overview and live dashboard of the floor, window workload proposals and
auto mode, and reports over days.

Pages: ``/manager`` (queues and windows now), ``/manager/dashboard`` (live over the
Socket.IO room ``manager``: people per zone, cameras, queues, windows, alerts,
overdue items, workload proposals, auto mode) and ``/manager/reports``.
API, prefix ``/api/v1``: ``dashboard`` (+ ``/occupancy``, ``/alerts``),
``workload/proposals`` (+ ``/apply``), ``workload/changes``, ``workload/auto``,
``reports/tickets``, ``reports/cases``, ``notices/unsent`` (citizens not yet told their
result is ready) and ``notices/<id>/retry``. All for managers only; a change is audited
under the manager's login.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy import select

from displays import manager as manager_room
from hall_ops import queue
from hall_ops.audit.roots import recent_roots
from hall_ops.cases import notices
from hall_ops.clock import hall_day, iso_utc
from hall_ops.errors import Conflict, InvalidInput
from hall_ops.floor.alerts import alerts_now
from hall_ops.floor.auto_mode import (
    apply_and_record,
    auto_settings,
    auto_view,
    change_auto_settings,
    compute_proposals,
    last_change_at,
    proposal_id,
    proposals_payload,
    recent_changes,
)
from hall_ops.floor.overview import floor_state
from hall_ops.floor.plan import floor_plan
from hall_ops.floor.workload import Proposal
from hall_ops.queue.models import Clerk
from hall_ops.reports import cases as case_reports
from hall_ops.reports import pauses as pause_reports
from hall_ops.reports import tickets as reports
from hall_web.access import access
from hall_web.api import answers, api, parse
from hall_web.context import current_hall
from hall_web.request_helpers import actor, layout, write
from hall_web.schemas.managers import (
    Alerts,
    Applied,
    ApplyProposal,
    AutoSettings,
    AutoView,
    CaseReport,
    Changes,
    ChangesQuery,
    Dashboard,
    NoticeRetried,
    Occupancy,
    OccupancyQuery,
    PauseReport,
    PauseReportQuery,
    ProposalBody,
    Proposals,
    ReportQuery,
    TicketReport,
    TicketReportQuery,
    UnsentNotices,
)
from sensors.poller import occupancy_series
from zones.skills import window_skills

bp = Blueprint("managers", __name__)


@bp.get("/manager")
@access("manager")
def manager() -> str:
    return render_template("manager.html", layout=layout())


def _layout() -> dict[str, Any]:
    with current_hall().db.read() as session:
        layout = queue.hall_layout(session)
        layout["clerks"] = [{"id": c.id, "name": c.name}
                            for c in session.scalars(select(Clerk).order_by(Clerk.id))]
    return layout


@bp.get("/manager/dashboard")
@access("manager")
def dashboard_page() -> str:
    return render_template("dashboard.html", layout=_layout(),
                           config=current_hall().config.dashboard, intake=True)


@bp.get("/manager/reports")
@access("manager")
def reports_page() -> str:
    """The last seven days unless ``?from=&to=`` (kept in the address: a report can be shared)."""
    hall = current_hall()
    today = hall_day(hall.clock(), hall.config.timezone)

    def day(name: str, default: dt.date) -> str:
        try:
            return dt.date.fromisoformat(request.args.get(name, "")).isoformat()
        except ValueError:
            return default.isoformat()

    with hall.db.read() as s:
        roots = recent_roots(s)
    return render_template("reports.html", layout=_layout(), last_day=day("to", today),
                           first_day=day("from", today - dt.timedelta(days=6)), roots=roots)


@bp.get("/api/v1/dashboard")
@access("manager")
@api.validate(resp=answers(HTTP_200=Dashboard))
def dashboard_api() -> Any:
    hall = current_hall()
    return jsonify(floor_state(hall.db, hall.config, hall.clock()))

@bp.get("/api/v1/dashboard/occupancy")
@access("manager")
@api.validate(resp=answers(HTTP_200=Occupancy))
def occupancy_api(query: OccupancyQuery) -> Any:
    hall = current_hall()
    hours = query.hours or hall.config.dashboard.chart_hours
    now = hall.clock()
    since = now - dt.timedelta(hours=hours)
    with hall.db.read() as session:
        zones = floor_plan(session).zones
    return jsonify(
        since=iso_utc(since),
        at=iso_utc(now),
        zones={
            z.code: [{"at": iso_utc(p.at), "count": p.count, "source": p.source}
                     for p in occupancy_series(hall.db, z.code, since, now)]
            for z in zones
        },
    )


@bp.get("/api/v1/notices/unsent")
@access("manager")
@api.validate(resp=answers(HTTP_200=UnsentNotices))
def unsent_notices_api() -> Any:
    """Ready results whose citizen has not been told, and the channels that could tell them."""
    hall = current_hall()
    with hall.db.read() as session:
        waiting = notices.unsent(session)
    channels = sorted(hall.notices.channels) if hall.notices else []
    return jsonify(channels=channels, unsent=waiting)


@bp.post("/api/v1/notices/<int:notice_id>/retry")
@access("manager")
@api.validate(resp=answers(HTTP_200=NoticeRetried, errors=(404, 409)))
def retry_notice_api(notice_id: int) -> Any:
    """A failed notice is tried again now (after the gateway or its credentials were fixed)."""
    hall = current_hall()
    row = notices.retry_now(hall.db, notice_id, hall.clock())
    return jsonify(id=row.id, status=row.status)


@bp.get("/api/v1/workload/proposals")
@access("manager")
@api.validate(resp=answers(HTTP_200=Proposals))
def proposals_api() -> Any:
    hall = current_hall()
    return jsonify(proposals_payload(hall.db, hall.config, hall.clock()))


@bp.post("/api/v1/workload/proposals/apply")
@access("manager")
@api.validate(resp=answers(HTTP_200=Applied, errors=(404, 409)))
def apply_api(json: ApplyProposal) -> Any:
    """Apply one proposal by id (it must still be proposed) or as sent back whole.

    A proposal sent whole that is still proposed is applied with the current
    predictions; otherwise as sent, and ``apply_proposal`` refuses it if the
    window has changed since (409 ``stale_proposal``).
    """
    hall = current_hall()
    now = hall.clock()
    current = {proposal_id(p): p for p in compute_proposals(hall.db, hall.config, now)[0]}
    if json.model_fields_set == {"id"}:
        if json.id not in current:
            raise Conflict("that proposal is no longer proposed; reload the proposals",
                           code="stale_proposal")
        proposal = current[json.id]
    else:
        sent = proposal_from_body(json.proposal or parse(
            ProposalBody, json.model_dump(exclude={"id", "proposal"}, exclude_unset=True)
        ))
        with hall.db.read() as session:
            allowed = window_skills(floor_plan(session).windows).get(sent.window)
        if allowed is not None and not set(sent.to_services) <= allowed | set(sent.from_services):
            raise InvalidInput(f"window {sent.window} cannot serve "
                               f"{sorted(set(sent.to_services) - allowed)}",
                               code="not_in_skills", field="to_services")
        proposal = current.get(proposal_id(sent), sent)
    with write() as session:
        record = apply_and_record(session, proposal, actor(), now)
    payload = proposals_payload(hall.db, hall.config, hall.clock())
    manager_room.push_proposals(hall.socketio, payload)
    return jsonify(applied=record, proposals=payload["proposals"])


@bp.get("/api/v1/workload/changes")
@access("manager")
@api.validate(resp=answers(HTTP_200=Changes))
def changes_api(query: ChangesQuery) -> Any:
    with current_hall().db.read() as session:
        return jsonify(changes=recent_changes(session, query.limit))


@bp.get("/api/v1/workload/auto")
@access("manager")
@api.validate(resp=answers(HTTP_200=AutoView))
def auto_get() -> Any:
    with current_hall().db.read() as session:
        return jsonify(auto_view(auto_settings(session), last_change_at(session)))


@bp.post("/api/v1/workload/auto")
@access("manager")
@api.validate(resp=answers(HTTP_200=AutoView))
def auto_set(json: AutoSettings) -> Any:
    """Change any of enabled, min_windows_per_service, min_interval_minutes (audited)."""
    hall = current_hall()
    with write() as session:
        view = change_auto_settings(session, hall.clock(), actor(), enabled=json.enabled,
                                    min_windows_per_service=json.min_windows_per_service,
                                    min_interval_minutes=json.min_interval_minutes)
    return jsonify(view)


@bp.get("/api/v1/dashboard/alerts")
@access("manager")
@api.validate(resp=answers(HTTP_200=Alerts))
def alerts_api() -> Any:
    """The alerts now: the page asks again after each live push (one set of rules, here)."""
    hall = current_hall()
    now = hall.clock()
    return jsonify(alerts=alerts_now(hall.db, hall.config, now), at=iso_utc(now))


def proposal_from_body(body: ProposalBody) -> Proposal:
    """A proposal as ``GET /workload/proposals`` gave it, sent back to be applied."""
    if body.kind == "move" and body.clerk_from_window is None:
        raise InvalidInput("a move names the window the clerk comes from",
                           code="invalid_field", field="clerk_from_window")

    def waits(values: dict[str, float | None]) -> dict[str, float]:
        return {code: math.inf if v is None else v for code, v in values.items()}

    return Proposal(
        kind=body.kind,
        window=body.window,
        from_services=tuple(sorted(set(body.from_services))),
        to_services=tuple(sorted(set(body.to_services))),
        clerk_from_window=body.clerk_from_window if body.kind == "move" else None,
        before=waits(body.before),
        after=waits(body.after),
        gain=body.gain,
        reason_zh=body.reason_zh,
        reason_en=body.reason_en,
    )


def _report_range(query: ReportQuery) -> tuple[dt.date, dt.date]:
    """``from`` and ``to`` (default: today, and the same day as ``from``)."""
    hall = current_hall()
    first = query.from_ or hall_day(hall.clock(), hall.config.timezone)
    return first, query.to or first


@bp.get("/api/v1/reports/tickets")
@access("manager")
@api.validate(resp=answers(HTTP_200=TicketReport))
def ticket_report(query: TicketReportQuery) -> Any:
    """Per day/hour/service/window/clerk figures; ``format=csv`` for a spreadsheet."""
    hall = current_hall()
    first, last = _report_range(query)
    group_by = query.group_by
    with hall.db.read() as s:
        rows = reports.ticket_report(s, hall.config, first, last, group_by)
    if query.format == "csv":
        filename = f"tickets-{group_by}-{first}-{last}.csv"
        return Response(
            # The BOM makes Excel open UTF-8 Chinese right.
            "\ufeff" + reports.report_csv(reports.ReportRow, rows, group_by),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename={filename}"},
        )
    return jsonify(group_by=group_by, first_day=first.isoformat(), last_day=last.isoformat(),
                   rows=[asdict(r) for r in rows])


@bp.get("/api/v1/reports/pauses")
@access("manager")
@api.validate(resp=answers(HTTP_200=PauseReport))
def pause_report(query: PauseReportQuery) -> Any:
    """Minutes paused per window or clerk, by reason; ``format=csv`` for a spreadsheet."""
    hall = current_hall()
    first, last = _report_range(query)
    with hall.db.read() as s:
        rows = pause_reports.pause_report(s, hall.config, first, last, query.group_by,
                                          hall.clock())
    if query.format == "csv":
        filename = f"pauses-{query.group_by}-{first}-{last}.csv"
        return Response(
            "\ufeff" + reports.report_csv(pause_reports.PauseRow, rows, query.group_by),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename={filename}"},
        )
    return jsonify(group_by=query.group_by, first_day=first.isoformat(),
                   last_day=last.isoformat(), rows=[asdict(r) for r in rows])


@bp.get("/api/v1/reports/cases")
@access("manager")
@api.validate(resp=answers(HTTP_200=CaseReport))
def case_report(query: ReportQuery) -> Any:
    """Per department: windows visited and materials per case, decisions against the limit."""
    hall = current_hall()
    first, last = _report_range(query)
    with hall.db.read() as s:
        rows = case_reports.case_report(
            s, hall.config.intake_rules, first, last, hall.clock())
    if query.format == "csv":
        return Response(
            "\ufeff" + reports.report_csv(case_reports.CaseRow, rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=cases-{first}-{last}.csv"},
        )
    return jsonify(first_day=first.isoformat(), last_day=last.isoformat(),
                   rows=[asdict(r) for r in rows])
