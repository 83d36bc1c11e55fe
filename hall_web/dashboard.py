"""Manager dashboard and reports: the hall live, window workload proposals, figures over days.

Pages: ``/manager/dashboard`` (live over the Socket.IO room ``manager``:
people per zone from cameras or estimated, camera status, queues, windows,
alerts, overdue cases, workload proposals, auto mode) and
``/manager/reports`` (tickets, waits, service times, no-shows per day, hour,
service, window and clerk, drawn from ``GET /api/v1/reports/tickets``).

API, prefix ``/api/v1``:

* ``GET  /dashboard``                 everything the dashboard shows, now
* ``GET  /dashboard/occupancy?hours=`` people per zone over the last hours
* ``GET  /workload/proposals``        proposals computed now, with predicted waits before/after
* ``POST /workload/proposals/apply``  ``{id}``, ``{proposal: {…}}`` or the proposal itself
* ``GET  /workload/changes?limit=``   the audit trail, newest first
* ``GET|POST /workload/auto``         auto mode: enabled, min_windows_per_service,
                                      min_interval_minutes

Auto mode (``workload_tick`` on the scheduler) applies only ``assign``
proposals — an open window calls other services. Opening a window or moving
a clerk needs a person to walk and log in, so those stay proposals for the
manager. Every applied change, by hand or automatic, and every change of the
auto settings is a row of the append-only ``workload_changes``.

Config, ``[dashboard]``: ``queue_alert`` (alert when this many people or more
wait for one service, default 15), ``chart_hours`` (occupancy chart span,
default 3), ``workload_seconds`` (how often the scheduler runs
``workload_tick``, default 60).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, jsonify, render_template, request
from sqlalchemy import JSON, DateTime, Integer, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from displays.dashboard import push_alerts, push_occupancy, push_proposals, push_workload
from hall_ops import queue
from hall_ops.clock import from_local, hall_day, to_local
from hall_ops.config import WEEKDAYS, ConfigError, HallConfig
from hall_ops.db import Base, Database
from hall_ops.errors import Conflict, InvalidInput
from hall_ops.models import Clerk, Window, make_append_only
from hall_ops.workload import (
    Proposal,
    Rules,
    apply_proposal,
    may_apply_automatically,
    measure_capacity,
    measure_demand,
    propose,
)
from hall_web.api import _after_window_change, _body, _write
from hall_web.context import HallContext, current_hall
from sensors.config import parse_cameras
from sensors.models import Camera
from sensors.poller import CameraReading, ZoneOccupancy, occupancy_series, zone_occupancy

try:  # Overdue cases need the intake module (and its hand-off outbox); the dashboard works without.
    from hall_ops import intake as _intake
except ImportError:  # pragma: no cover - depends on what is installed
    _intake = None

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- config


@dataclass(frozen=True)
class DashboardConfig:
    queue_alert: int = 15
    """Alert when this many people or more wait for one service."""
    chart_hours: float = 3.0
    workload_seconds: int = 60

    @classmethod
    def from_config(cls, hall: HallConfig) -> DashboardConfig:
        section = hall.raw.get("dashboard", {})
        if not isinstance(section, dict):
            raise ConfigError("[dashboard] must be a table")
        unknown = sorted(set(section) - {"queue_alert", "chart_hours", "workload_seconds"})
        if unknown:
            raise ConfigError(f"[dashboard]: unknown key(s) {unknown}")

        def number(key: str, default: float, low: float, high: float, whole: bool) -> Any:
            value = section.get(key, default)
            kinds = (int,) if whole else (int, float)
            if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
                kind = "a whole number" if whole else "a number"
                raise ConfigError(f"[dashboard] {key}: must be {kind} from {low:g} to {high:g}")
            return value

        return cls(
            queue_alert=number("queue_alert", cls.queue_alert, 1, 10_000, True),
            chart_hours=float(number("chart_hours", cls.chart_hours, 0.5, 24, False)),
            workload_seconds=number("workload_seconds", cls.workload_seconds, 10, 3600, True),
        )


# ---------------------------------------------------------------- tables


class WorkloadChange(Base):
    """Audit trail of window workload changes and auto-mode settings (append-only)."""

    __tablename__ = "workload_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(32))
    """``manager`` (the dashboard) or ``auto`` (auto mode)."""
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    """assign, open, move (a proposal applied) or auto_mode (settings changed)."""
    window_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)


make_append_only(WorkloadChange.__table__)  # type: ignore[arg-type]


class WorkloadAuto(Base):
    """Auto-mode settings: one row (id 1), shared by every process of the hall."""

    __tablename__ = "workload_auto"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    enabled: Mapped[bool] = mapped_column(default=False)
    min_windows_per_service: Mapped[int] = mapped_column(Integer, default=1)
    min_interval_minutes: Mapped[float] = mapped_column(default=15.0)


TABLES = (WorkloadChange.__table__, WorkloadAuto.__table__)
WINDOW_CHANGES = ("assign", "open", "move")


def create_tables(db: Database) -> None:
    Base.metadata.create_all(db.engine, tables=list(TABLES))  # type: ignore[arg-type]
    try:
        with db.write() as session:
            if session.get(WorkloadAuto, 1) is None:
                session.add(_default_auto_row())
    except IntegrityError:  # another process made the row at the same moment
        pass


def _default_auto_row() -> WorkloadAuto:
    defaults = Rules()
    return WorkloadAuto(id=1, enabled=False, min_windows_per_service=defaults.default_min_windows,
                        min_interval_minutes=defaults.min_interval_minutes)


# ---------------------------------------------------------------- auto-mode settings


@dataclass(frozen=True)
class AutoSettings:
    enabled: bool
    min_windows_per_service: int
    min_interval_minutes: float

    @classmethod
    def of(cls, row: WorkloadAuto) -> AutoSettings:
        return cls(row.enabled, row.min_windows_per_service, row.min_interval_minutes)

    def rules(self) -> Rules:
        """The planner's limits: the same for the proposals shown and for auto mode."""
        return Rules(default_min_windows=self.min_windows_per_service,
                     min_interval_minutes=self.min_interval_minutes)


def auto_settings(session: Session) -> AutoSettings:
    row = session.get(WorkloadAuto, 1)
    return AutoSettings.of(row if row is not None else _default_auto_row())


def _auto_row_for_update(session: Session) -> WorkloadAuto:
    row = session.scalars(
        select(WorkloadAuto).where(WorkloadAuto.id == 1).with_for_update()
    ).first()
    if row is None:
        row = _default_auto_row()
        session.add(row)
        session.flush()
    return row


def last_change_at(session: Session) -> dt.datetime | None:
    """When a window's services were last changed, by hand or automatically."""
    return session.scalar(
        select(func.max(WorkloadChange.at)).where(WorkloadChange.kind.in_(WINDOW_CHANGES))
    )


def auto_view(settings: AutoSettings, last: dt.datetime | None) -> dict[str, Any]:
    next_allowed = last + dt.timedelta(minutes=settings.min_interval_minutes) if last else None
    return {
        "enabled": settings.enabled,
        "min_windows_per_service": settings.min_windows_per_service,
        "min_interval_minutes": settings.min_interval_minutes,
        "last_change_at": _iso(last),
        "next_allowed_at": _iso(next_allowed),
    }


# ---------------------------------------------------------------- small helpers


def _iso(value: dt.datetime | None) -> str | None:
    return value.replace(tzinfo=dt.UTC).isoformat() if value else None


def _minutes(values: Mapping[str, float]) -> dict[str, float | None]:
    """JSON has no infinity: a wait nobody can serve (no window) is null."""
    return {code: None if math.isinf(v) else v for code, v in values.items()}


def opened_at(hall: HallConfig, now: dt.datetime) -> dt.datetime | None:
    """Today's opening (naive UTC) once the hall has opened: early rates are not diluted."""
    local = to_local(now, hall.timezone)
    hours = hall.opening_hours.get(WEEKDAYS[local.weekday()])
    if hours is None:
        return None
    opening = from_local(dt.datetime.combine(local.date(), hours[0]), hall.timezone)
    return opening if opening <= now else None


def window_skills(hall: HallConfig) -> dict[int, frozenset[str]]:
    """A window may serve what the configured windows of its zone and kind serve.

    So an intake window takes any board's intake and a delivery window only
    delivery: the planner does not send a result-delivery clerk to register
    companies.
    """
    by_kind: dict[tuple[str, str], set[str]] = {}
    for w in hall.windows:
        by_kind.setdefault((w.zone, w.kind), set()).update(w.services)
    return {w.number: frozenset(by_kind[(w.zone, w.kind)]) for w in hall.windows}


def spare_clerks(session: Session) -> int:
    """Clerks of the roster not logged in at any window: who could open one."""
    clerks = session.scalar(select(func.count()).select_from(Clerk)) or 0
    seated = session.scalar(
        select(func.count()).select_from(Window).where(Window.clerk_id.is_not(None))
    ) or 0
    return max(clerks - seated, 0)


TREND_MINUTES = 15
TREND_FLOOR = 10
"""People: below this a zone's count changes are noise, not a trend."""


def occupancy_trends(db: Database, zones: Iterable[str], now: dt.datetime) -> dict[str, float]:
    """Relative change of each zone's camera count over the last minutes (+0.2: 20 % more).

    Camera counts only: the estimate is made from waiting tickets, which the
    demand already counts. ``Demand.forecast_rate`` clamps the result.
    """
    since = now - dt.timedelta(minutes=TREND_MINUTES)
    trends: dict[str, float] = {}
    for zone in zones:
        points = [p for p in occupancy_series(db, zone, since, now) if p.source == "camera"]
        if len(points) >= 2 and points[-1].at - points[0].at >= dt.timedelta(minutes=10):
            trends[zone] = (points[-1].count - points[0].count) / max(points[0].count, TREND_FLOOR)
    return trends


# ---------------------------------------------------------------- what the dashboard shows


def zone_view(zone: ZoneOccupancy) -> dict[str, Any]:
    return {
        "zone": zone.zone,
        "count": zone.count,
        "at": _iso(zone.at),
        "stale": zone.stale,
        "estimate": zone.estimate,
        "cameras": list(zone.cameras),
        "entered": zone.entered,
        "exited": zone.exited,
    }


def waiting_per_zone(hall: HallConfig, snapshot: Mapping[str, Any]) -> dict[str, int]:
    totals = dict.fromkeys((z.code for z in hall.zones), 0)
    for service in snapshot["services"]:
        totals[service["zone"]] = totals.get(service["zone"], 0) + service["waiting"]
    return totals


def camera_statuses(hall: HallConfig, session: Session) -> list[dict[str, Any]]:
    """Every configured camera with what the poller last learned (``unknown``: never polled)."""
    rows = {c.name: c for c in session.scalars(select(Camera))}
    out = []
    for config in parse_cameras(hall.raw, {z.code for z in hall.zones}):
        row = rows.get(config.name)
        out.append({
            "camera": config.name,
            "zone": config.zone,
            "role": config.role,
            "status": row.status if row else "unknown",
            "last_seen_at": _iso(row.last_seen_at) if row else None,
            "error": row.last_error if row else None,
        })
    return out


def reading_view(reading: CameraReading) -> dict[str, Any]:
    return {
        "camera": reading.camera,
        "zone": reading.zone,
        "role": reading.role,
        "status": reading.status,
        "last_seen_at": _iso(reading.last_seen_at),
        "error": reading.error,
    }


def overdue_cases(hall: HallConfig, db: Database, now: dt.datetime) -> list[dict[str, Any]] | None:
    """Undecided intake items past or near their legal limit; None without the intake module."""
    if _intake is None:
        return None
    rules = _intake.IntakeRules.from_config(hall)
    with db.read() as session:
        return _intake.deadline_watch(session, rules, now)


def build_alerts(
    snapshot: Mapping[str, Any],
    cameras: Sequence[Mapping[str, Any]],
    overdue: Sequence[Mapping[str, Any]] | None,
    queue_alert: int,
) -> list[dict[str, Any]]:
    """What needs the manager now. (dashboard.js repeats the queue and camera rules, so those
    alerts follow every live ``queue`` and ``occupancy`` push without a round trip.)"""
    alerts: list[dict[str, Any]] = []
    for s in snapshot["services"]:
        if s["waiting"] > 0 and s["open_windows"] == 0:
            alerts.append({"kind": "unstaffed", "severity": "critical", "service": s["code"],
                           "waiting": s["waiting"]})
        if s["waiting"] >= queue_alert:
            alerts.append({"kind": "queue", "severity": "warning", "service": s["code"],
                           "waiting": s["waiting"], "threshold": queue_alert})
    for c in cameras:
        if c["status"] in ("offline", "unauthorized"):
            alerts.append({"kind": "camera", "severity": "warning", "camera": c["camera"],
                           "zone": c["zone"], "status": c["status"],
                           "last_seen_at": c["last_seen_at"]})
    late = sum(1 for item in overdue or () if item["overdue"])
    if late:
        alerts.append({"kind": "overdue", "severity": "critical", "count": late})
    return alerts


def recent_changes(session: Session, limit: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(WorkloadChange).order_by(WorkloadChange.id.desc()).limit(limit)
    ).all()
    return [
        {"id": r.id, "at": _iso(r.at), "actor": r.actor, "origin": r.origin, "kind": r.kind,
         "window": r.window_number, "record": r.record}
        for r in rows
    ]


def alerts_now(hall: HallContext, now: dt.datetime) -> list[dict[str, Any]]:
    with hall.db.read() as session:
        snapshot = queue.queue_snapshot(session, hall.config, now)
        cameras = camera_statuses(hall.config, session)
    return build_alerts(snapshot, cameras, overdue_cases(hall.config, hall.db, now),
                        DashboardConfig.from_config(hall.config).queue_alert)


def dashboard_state(hall: HallContext) -> dict[str, Any]:
    config = DashboardConfig.from_config(hall.config)
    now = hall.clock()
    with hall.db.read() as session:
        snapshot = queue.queue_snapshot(session, hall.config, now)
        cameras = camera_statuses(hall.config, session)
        settings = auto_settings(session)
        last = last_change_at(session)
        changes = recent_changes(session, 10)
    zones = zone_occupancy(hall.db, now, waiting_per_zone(hall.config, snapshot))
    overdue = overdue_cases(hall.config, hall.db, now)
    return {
        "at": _iso(now),
        "queue_alert": config.queue_alert,
        "chart_hours": config.chart_hours,
        "queue": snapshot,
        "occupancy": {code: zone_view(z) for code, z in zones.items()},
        "cameras": cameras,
        "alerts": build_alerts(snapshot, cameras, overdue, config.queue_alert),
        "overdue": overdue,
        "auto": auto_view(settings, last),
        "changes": changes,
    }


def camera_update(hall: HallContext, readings: Sequence[CameraReading]) -> None:
    """The camera poller's ``on_update``: push people per zone and camera status to ``manager``."""
    now = hall.clock()
    with hall.db.read() as session:
        snapshot = queue.queue_snapshot(session, hall.config, now)
    zones = zone_occupancy(hall.db, now, waiting_per_zone(hall.config, snapshot))
    push_occupancy(hall.socketio, {code: zone_view(z) for code, z in zones.items()},
                   [reading_view(r) for r in readings])


# ---------------------------------------------------------------- workload proposals


PROPOSAL_KINDS = ("assign", "open", "move")
MAX_REASON = 2000


def proposal_id(proposal: Proposal) -> str:
    """Names the change itself, not its predictions: the same change has the same id a minute
    later, and a change made against other services (stale) has another."""
    key = [proposal.kind, proposal.window, list(proposal.from_services),
           list(proposal.to_services), proposal.clerk_from_window]
    return hashlib.sha1(json.dumps(key).encode()).hexdigest()[:12]


def proposal_view(proposal: Proposal) -> dict[str, Any]:
    return {
        "id": proposal_id(proposal),
        "kind": proposal.kind,
        "window": proposal.window,
        "from_services": list(proposal.from_services),
        "to_services": list(proposal.to_services),
        "clerk_from_window": proposal.clerk_from_window,
        "before": _minutes(proposal.before),
        "after": _minutes(proposal.after),
        "gain": proposal.gain,
        "reason_zh": proposal.reason_zh,
        "reason_en": proposal.reason_en,
        "automatic": proposal.kind == "assign",
    }


def compute_proposals(hall: HallContext, now: dt.datetime) -> tuple[list[Proposal], AutoSettings]:
    """Demand now (tickets, service times, camera trends) against the windows: the planner."""
    trends = occupancy_trends(hall.db, [z.code for z in hall.config.zones], now)
    with hall.db.read() as session:
        settings = auto_settings(session)
        demand = measure_demand(
            session, now, day=hall_day(now, hall.config.timezone),
            opened_at=opened_at(hall.config, now), occupancy_trend=trends,
            sample=hall.config.queue.service_time_sample,
        )
        capacity = measure_capacity(session, window_skills(hall.config))
        spare = spare_clerks(session)
    proposals = propose(demand, capacity.windows, capacity.skills, settings.rules(),
                        spare_clerks=spare)
    return proposals, settings


def proposals_payload(hall: HallContext, now: dt.datetime) -> dict[str, Any]:
    """What ``GET /workload/proposals`` answers and the ``proposals`` push carries."""
    proposals, settings = compute_proposals(hall, now)
    with hall.db.read() as session:
        last = last_change_at(session)
    return {"at": _iso(now), "proposals": [proposal_view(p) for p in proposals],
            "auto": auto_view(settings, last)}


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


def apply_and_record(
    session: Session, proposal: Proposal, actor: str, now: dt.datetime
) -> dict[str, Any]:
    """Rewrite the window's services and write the audit row, in the caller's transaction
    (whose ``origin`` — address and device, or ``scheduler`` — goes into the row)."""
    record = apply_proposal(session, proposal, actor, now)
    record["id"] = proposal_id(proposal)
    session.add(WorkloadChange(at=now, actor=actor, origin=session.info.get("origin"),
                               kind=proposal.kind, window_number=proposal.window, record=record))
    return record


def _apply_automatically(
    hall: HallContext, proposals: Sequence[Proposal], now: dt.datetime
) -> list[dict[str, Any]]:
    """Apply the ``assign`` proposals if auto mode is on and the interval has passed.

    The settings row is locked and the last change re-read inside the write
    transaction, so two processes ticking at once cannot both apply.
    """
    with hall.db.write(origin="scheduler") as session:
        settings = AutoSettings.of(_auto_row_for_update(session))
        if not settings.enabled or not may_apply_automatically(
            last_change_at(session), now, settings.rules()
        ):
            return []
        applied = []
        for proposal in proposals:
            if proposal.kind != "assign":
                continue
            try:
                with session.begin_nested():
                    applied.append(apply_and_record(session, proposal, "auto", now))
            except (Conflict, InvalidInput) as exc:
                log.info("auto mode skipped window %d: %s", proposal.window, exc)
        return applied


def workload_tick(hall: HallContext) -> list[dict[str, Any]]:
    """Scheduler job: compute proposals, apply them in auto mode, push them and the alerts.

    Returns the audit records of what auto mode applied (empty when nothing).
    """
    now = hall.clock()
    proposals, settings = compute_proposals(hall, now)
    applied: list[dict[str, Any]] = []
    if settings.enabled and any(p.kind == "assign" for p in proposals):
        applied = _apply_automatically(hall, proposals, now)
    if applied:
        log.info("auto mode changed window(s) %s", [a["window"] for a in applied])
        hall.publisher.queue_changed()
        push_workload(hall.socketio, {"applied": applied})
        proposals, settings = compute_proposals(hall, now)
    with hall.db.read() as session:
        last = last_change_at(session)
    push_proposals(hall.socketio, {"at": _iso(now),
                                   "proposals": [proposal_view(p) for p in proposals],
                                   "auto": auto_view(settings, last)})
    push_alerts(hall.socketio, alerts_now(hall, now), _iso(now) or "")
    return applied


# ---------------------------------------------------------------- HTTP

bp = Blueprint("dashboard", __name__)


def _layout() -> dict[str, Any]:
    with current_hall().db.read() as session:
        layout = queue.hall_layout(session)
        layout["clerks"] = [{"id": c.id, "name": c.name}
                            for c in session.scalars(select(Clerk).order_by(Clerk.id))]
    return layout


@bp.get("/manager/dashboard")
def dashboard_page() -> str:
    hall = current_hall()
    config = DashboardConfig.from_config(hall.config)
    return render_template("dashboard.html", layout=_layout(), config=config,
                           intake=_intake is not None)


@bp.get("/manager/reports")
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
def dashboard_api() -> Any:
    return jsonify(dashboard_state(current_hall()))


MAX_CHART_HOURS = 24


@bp.get("/api/v1/dashboard/occupancy")
def occupancy_api() -> Any:
    hall = current_hall()
    text = request.args.get("hours")
    try:
        hours = float(text) if text is not None else DashboardConfig.from_config(
            hall.config).chart_hours
    except ValueError:
        hours = -1.0
    if not 0 < hours <= MAX_CHART_HOURS:
        raise InvalidInput(f"hours must be a number above 0, at most {MAX_CHART_HOURS}",
                           code="invalid_field", field="hours")
    now = hall.clock()
    since = now - dt.timedelta(hours=hours)
    return jsonify(
        since=_iso(since),
        at=_iso(now),
        zones={
            z.code: [{"at": _iso(p.at), "count": p.count, "source": p.source}
                     for p in occupancy_series(hall.db, z.code, since, now)]
            for z in hall.config.zones
        },
    )


@bp.get("/api/v1/workload/proposals")
def proposals_api() -> Any:
    hall = current_hall()
    return jsonify(proposals_payload(hall, hall.clock()))


@bp.post("/api/v1/workload/proposals/apply")
def apply_api() -> Any:
    """Apply one proposal by id (it must still be proposed) or as sent back whole.

    A proposal sent whole that is still proposed is applied with the current
    predictions; otherwise as sent, and ``apply_proposal`` refuses it if the
    window has changed since (409 ``stale_proposal``).
    """
    hall = current_hall()
    data = _body()
    now = hall.clock()
    current = {proposal_id(p): p for p in compute_proposals(hall, now)[0]}
    if set(data) == {"id"}:
        wanted = data["id"]
        if not isinstance(wanted, str) or wanted not in current:
            raise Conflict("that proposal is no longer proposed; reload the proposals",
                           code="stale_proposal")
        proposal = current[wanted]
    else:
        body = data.get("proposal", data)
        if not isinstance(body, dict):
            raise InvalidInput("'proposal' must be an object", code="invalid_field",
                               field="proposal")
        sent = proposal_from_body(body)
        allowed = window_skills(hall.config).get(sent.window)
        if allowed is not None and not set(sent.to_services) <= allowed | set(sent.from_services):
            raise InvalidInput(f"window {sent.window} cannot serve "
                               f"{sorted(set(sent.to_services) - allowed)}",
                               code="not_in_skills", field="to_services")
        proposal = current.get(proposal_id(sent), sent)
    with _write() as session:
        record = apply_and_record(session, proposal, "manager", now)
    _after_window_change(proposal.window)
    push_workload(hall.socketio, {"applied": [record]})
    payload = proposals_payload(hall, hall.clock())
    push_proposals(hall.socketio, payload)
    return jsonify(applied=record, proposals=payload["proposals"])


@bp.get("/api/v1/workload/changes")
def changes_api() -> Any:
    limit = request.args.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= 500:
        raise InvalidInput("limit must be 1–500", code="invalid_field", field="limit")
    with current_hall().db.read() as session:
        return jsonify(changes=recent_changes(session, int(limit)))


MAX_MIN_WINDOWS = 10
MAX_INTERVAL_MINUTES = 480


@bp.get("/api/v1/workload/auto")
def auto_get() -> Any:
    with current_hall().db.read() as session:
        return jsonify(auto_view(auto_settings(session), last_change_at(session)))


@bp.post("/api/v1/workload/auto")
def auto_set() -> Any:
    """Change any of enabled, min_windows_per_service, min_interval_minutes (audited)."""
    hall = current_hall()
    data = _body()
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
    now = hall.clock()
    with _write() as session:
        row = _auto_row_for_update(session)
        before = AutoSettings.of(row)
        if enabled is not None:
            row.enabled = enabled
        if minimum is not None:
            row.min_windows_per_service = minimum
        if interval is not None:
            row.min_interval_minutes = float(interval)
        after = AutoSettings.of(row)
        if after != before:
            session.add(WorkloadChange(
                at=now, actor="manager", origin=session.info.get("origin"), kind="auto_mode",
                window_number=None,
                record={"at": _iso(now), "actor": "manager",
                        "before": auto_view(before, None), "after": auto_view(after, None)},
            ))
        view = auto_view(after, last_change_at(session))
    push_workload(hall.socketio, {"auto": view})
    return jsonify(view)


def init_app(app: Flask) -> None:
    """Register the pages and API on the app and create this module's tables (idempotent)."""
    if "dashboard" in app.blueprints:
        return
    hall: HallContext = app.extensions["hall"]
    DashboardConfig.from_config(hall.config)  # a bad [dashboard] section fails at start
    create_tables(hall.db)
    app.register_blueprint(bp)
