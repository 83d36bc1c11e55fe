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
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy import select

from displays import manager as manager_room
from hall_ops import queue
from hall_ops.cases import notices
from hall_ops.cases.intake import IntakeRules
from hall_ops.clock import hall_day, iso_utc
from hall_ops.errors import Conflict, InvalidInput
from hall_ops.floor.alerts import alerts_now
from hall_ops.floor.auto_mode import (
    PROPOSAL_KINDS,
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
from hall_ops.floor.workload import Proposal
from hall_ops.queue.models import Clerk
from hall_ops.reports import cases as case_reports
from hall_ops.reports import tickets as reports
from hall_web.access import access
from hall_web.context import current_hall
from hall_web.request_helpers import actor, body, layout, write
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

    return render_template("reports.html", layout=_layout(), last_day=day("to", today),
                           first_day=day("from", today - dt.timedelta(days=6)))


@bp.get("/api/v1/dashboard")
@access("manager")
def dashboard_api() -> Any:
    hall = current_hall()
    return jsonify(floor_state(hall.db, hall.config, hall.clock()))

MAX_CHART_HOURS = 24


@bp.get("/api/v1/dashboard/occupancy")
@access("manager")
def occupancy_api() -> Any:
    hall = current_hall()
    text = request.args.get("hours")
    try:
        hours = float(text) if text is not None else hall.config.dashboard.chart_hours
    except ValueError:
        hours = -1.0
    if not 0 < hours <= MAX_CHART_HOURS:
        raise InvalidInput(f"hours must be a number above 0, at most {MAX_CHART_HOURS}",
                           code="invalid_field", field="hours")
    now = hall.clock()
    since = now - dt.timedelta(hours=hours)
    return jsonify(
        since=iso_utc(since),
        at=iso_utc(now),
        zones={
            z.code: [{"at": iso_utc(p.at), "count": p.count, "source": p.source}
                     for p in occupancy_series(hall.db, z.code, since, now)]
            for z in hall.config.zones
        },
    )


@bp.get("/api/v1/notices/unsent")
@access("manager")
def unsent_notices_api() -> Any:
    """Ready results whose citizen has not been told, and the channels that could tell them."""
    hall = current_hall()
    with hall.db.read() as session:
        waiting = notices.unsent(session)
    channels = sorted(hall.notices.channels) if hall.notices else []
    return jsonify(channels=channels, unsent=waiting)


@bp.post("/api/v1/notices/<int:notice_id>/retry")
@access("manager")
def retry_notice_api(notice_id: int) -> Any:
    """A failed notice is tried again now (after the gateway or its credentials were fixed)."""
    hall = current_hall()
    row = notices.retry_now(hall.db, notice_id, hall.clock())
    return jsonify(id=row.id, status=row.status)


@bp.get("/api/v1/workload/proposals")
@access("manager")
def proposals_api() -> Any:
    hall = current_hall()
    return jsonify(proposals_payload(hall.db, hall.config, hall.clock()))


@bp.post("/api/v1/workload/proposals/apply")
@access("manager")
def apply_api() -> Any:
    """Apply one proposal by id (it must still be proposed) or as sent back whole.

    A proposal sent whole that is still proposed is applied with the current
    predictions; otherwise as sent, and ``apply_proposal`` refuses it if the
    window has changed since (409 ``stale_proposal``).
    """
    hall = current_hall()
    data = body()
    now = hall.clock()
    current = {proposal_id(p): p for p in compute_proposals(hall.db, hall.config, now)[0]}
    if set(data) == {"id"}:
        wanted = data["id"]
        if not isinstance(wanted, str) or wanted not in current:
            raise Conflict("that proposal is no longer proposed; reload the proposals",
                           code="stale_proposal")
        proposal = current[wanted]
    else:
        sent_body = data.get("proposal", data)
        if not isinstance(sent_body, dict):
            raise InvalidInput("'proposal' must be an object", code="invalid_field",
                               field="proposal")
        sent = proposal_from_body(sent_body)
        allowed = window_skills(hall.config.windows).get(sent.window)
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
def changes_api() -> Any:
    limit = request.args.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= 500:
        raise InvalidInput("limit must be 1–500", code="invalid_field", field="limit")
    with current_hall().db.read() as session:
        return jsonify(changes=recent_changes(session, int(limit)))

MAX_MIN_WINDOWS = 10

MAX_INTERVAL_MINUTES = 480


@bp.get("/api/v1/workload/auto")
@access("manager")
def auto_get() -> Any:
    with current_hall().db.read() as session:
        return jsonify(auto_view(auto_settings(session), last_change_at(session)))


@bp.post("/api/v1/workload/auto")
@access("manager")
def auto_set() -> Any:
    """Change any of enabled, min_windows_per_service, min_interval_minutes (audited)."""
    hall = current_hall()
    data = body()
    unknown = sorted(set(data) - {"enabled", "min_windows_per_service", "min_interval_minutes"})
    if unknown:
        raise InvalidInput(f"unknown field(s) {unknown}", code="invalid_field", field=unknown[0])
    enabled = data.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidInput("'enabled' must be true or false", code="invalid_field",
                           field="enabled")
    minimum = _whole(data, "min_windows_per_service", required=False)
    if minimum is not None and not 0 <= minimum <= MAX_MIN_WINDOWS:
        raise InvalidInput(f"'min_windows_per_service' must be 0–{MAX_MIN_WINDOWS}",
                           code="invalid_field", field="min_windows_per_service")
    interval = data.get("min_interval_minutes")
    if interval is not None and (
        isinstance(interval, bool) or not isinstance(interval, int | float)
        or not 1 <= interval <= MAX_INTERVAL_MINUTES
    ):
        raise InvalidInput(f"'min_interval_minutes' must be a number 1–{MAX_INTERVAL_MINUTES}",
                           code="invalid_field", field="min_interval_minutes")
    with write() as session:
        view = change_auto_settings(session, hall.clock(), actor(), enabled=enabled,
                                    min_windows_per_service=minimum,
                                    min_interval_minutes=interval)
    return jsonify(view)


@bp.get("/api/v1/dashboard/alerts")
@access("manager")
def alerts_api() -> Any:
    """The alerts now: the page asks again after each live push (one set of rules, here)."""
    hall = current_hall()
    now = hall.clock()
    return jsonify(alerts=alerts_now(hall.db, hall.config, now), at=iso_utc(now))


def _services(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(c, str) and 0 < len(c) <= 32
                                              for c in value):
        raise InvalidInput(f"'{key}' must be a list of service codes", code="invalid_field",
                           field=key)
    return tuple(sorted(set(value)))

def _waits(data: Mapping[str, Any], key: str) -> dict[str, float]:
    value = data.get(key, {})
    if not isinstance(value, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) or v is None for v in value.values()
    ):
        raise InvalidInput(f"'{key}' must map service codes to minutes", code="invalid_field",
                           field=key)
    return {str(c): math.inf if v is None else float(v) for c, v in value.items()}

def _whole(data: Mapping[str, Any], key: str, *, required: bool = True) -> int | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"'{key}' must be a whole number", code="invalid_field", field=key)
    return value

MAX_REASON = 2000

def proposal_from_body(data: Mapping[str, Any]) -> Proposal:
    """A proposal as ``GET /workload/proposals`` gave it, sent back to be applied."""
    kind = data.get("kind")
    if kind not in PROPOSAL_KINDS:
        raise InvalidInput(f"'kind' must be one of {', '.join(PROPOSAL_KINDS)}",
                           code="invalid_field", field="kind")
    window = _whole(data, "window")
    source = _whole(data, "clerk_from_window", required=kind == "move")
    reasons = {}
    for key in ("reason_zh", "reason_en"):
        text = data.get(key, "")
        if not isinstance(text, str) or len(text) > MAX_REASON:
            raise InvalidInput(f"'{key}' must be text", code="invalid_field", field=key)
        reasons[key] = text
    gain = data.get("gain", 0.0)
    if isinstance(gain, bool) or not isinstance(gain, int | float):
        raise InvalidInput("'gain' must be a number", code="invalid_field", field="gain")
    assert window is not None
    return Proposal(
        kind=kind,
        window=window,
        from_services=_services(data, "from_services"),
        to_services=_services(data, "to_services"),
        clerk_from_window=source if kind == "move" else None,
        before=_waits(data, "before"),
        after=_waits(data, "after"),
        gain=float(gain),
        **reasons,
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


@bp.get("/api/v1/reports/tickets")
@access("manager")
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
            # The BOM makes Excel open UTF-8 Chinese right.
            "\ufeff" + reports.report_csv(reports.ReportRow, rows, group_by),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename={filename}"},
        )
    return jsonify(group_by=group_by, first_day=first.isoformat(), last_day=last.isoformat(),
                   rows=[asdict(r) for r in rows])


@bp.get("/api/v1/reports/cases")
@access("manager")
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
