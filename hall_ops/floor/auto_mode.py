"""Window workload proposals and auto mode: what the planner proposes now, applying it
by hand or automatically within limits, and the audit trail of every change.

Auto mode (``workload_tick`` on the scheduler) applies only ``assign``
proposals — an open window calls other services. Opening a window or moving
a clerk needs a person to walk and log in, so those stay proposals for the
manager. Every applied change, by hand or automatic, and every change of the
auto settings is a row of the append-only ``workload_changes``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hall_ops import events
from hall_ops.clock import from_local, hall_day, iso_utc, to_local
from hall_ops.config import WEEKDAYS, HallConfig
from hall_ops.db import Database
from hall_ops.errors import Conflict, InvalidInput
from hall_ops.events import QueueChanged, WindowChanged, WorkloadChanged
from hall_ops.floor.models import WINDOW_CHANGES, WorkloadAuto, WorkloadChange
from hall_ops.floor.plan import floor_plan
from hall_ops.floor.workload import (
    Proposal,
    Rules,
    apply_proposal,
    may_apply_automatically,
    measure_capacity,
    measure_demand,
    propose,
)
from hall_ops.queue.models import Clerk, Window
from zones.occupancy import occupancy_trends
from zones.skills import window_skills

log = logging.getLogger(__name__)

PROPOSAL_KINDS = ("assign", "open", "move")


def default_auto_row() -> WorkloadAuto:
    defaults = Rules()
    return WorkloadAuto(id=1, enabled=False, min_windows_per_service=defaults.default_min_windows,
                        min_interval_minutes=defaults.min_interval_minutes)


def ensure_auto_row(db: Database) -> None:
    """Make the settings row once (idempotent; two processes starting at once are fine)."""
    try:
        with db.write() as session:
            if session.get(WorkloadAuto, 1) is None:
                session.add(default_auto_row())
    except IntegrityError:  # another process made the row at the same moment
        pass


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
    return AutoSettings.of(row if row is not None else default_auto_row())

def auto_row_for_update(session: Session) -> WorkloadAuto:
    row = session.scalars(
        select(WorkloadAuto).where(WorkloadAuto.id == 1).with_for_update()
    ).first()
    if row is None:
        row = default_auto_row()
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
        "last_change_at": iso_utc(last),
        "next_allowed_at": iso_utc(next_allowed),
    }

def recent_changes(session: Session, limit: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(WorkloadChange).order_by(WorkloadChange.id.desc()).limit(limit)
    ).all()
    return [
        {"id": r.id, "at": iso_utc(r.at), "actor": r.actor, "origin": r.origin, "kind": r.kind,
         "window": r.window_number, "record": r.record}
        for r in rows
    ]

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

def spare_clerks(session: Session) -> int:
    """Clerks of the roster not logged in at any window: who could open one."""
    clerks = session.scalar(select(func.count()).select_from(Clerk)) or 0
    seated = session.scalar(
        select(func.count()).select_from(Window).where(Window.clerk_id.is_not(None))
    ) or 0
    return max(clerks - seated, 0)

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


def compute_proposals(
    db: Database, hall: HallConfig, now: dt.datetime
) -> tuple[list[Proposal], AutoSettings]:
    """Demand now (tickets, service times, camera trends) against the windows: the planner."""
    with db.read() as session:
        plan = floor_plan(session)  # as the admin page keeps it, not as config.toml seeded it
    trends = occupancy_trends(db, [z.code for z in plan.zones], now)
    with db.read() as session:
        settings = auto_settings(session)
        demand = measure_demand(
            session, now, day=hall_day(now, hall.timezone),
            opened_at=opened_at(hall, now), occupancy_trend=trends,
            sample=hall.queue.service_time_sample,
        )
        capacity = measure_capacity(session, window_skills(plan.windows))
        spare = spare_clerks(session)
    proposals = propose(demand, capacity.windows, capacity.skills, settings.rules(),
                        spare_clerks=spare)
    return proposals, settings


def proposals_payload(db: Database, hall: HallConfig, now: dt.datetime) -> dict[str, Any]:
    """What ``GET /workload/proposals`` answers and the ``proposals`` push carries."""
    proposals, settings = compute_proposals(db, hall, now)
    with db.read() as session:
        last = last_change_at(session)
    return {"at": iso_utc(now), "proposals": [proposal_view(p) for p in proposals],
            "auto": auto_view(settings, last)}


def apply_and_record(
    session: Session, proposal: Proposal, actor: str, now: dt.datetime
) -> dict[str, Any]:
    """Rewrite the window's services and write the audit row, in the caller's transaction
    (whose ``origin`` — address and device, or ``scheduler`` — goes into the row)."""
    record = apply_proposal(session, proposal, actor, now)
    record["id"] = proposal_id(proposal)
    session.add(WorkloadChange(at=now, actor=actor, origin=session.info.get("origin"),
                               kind=proposal.kind, window_number=proposal.window, record=record))
    events.record(session, WindowChanged(proposal.window))
    events.record(session, QueueChanged())
    events.record(session, WorkloadChanged({"applied": [record]}))
    return record


def _apply_automatically(
    db: Database, proposals: Sequence[Proposal], now: dt.datetime
) -> list[dict[str, Any]]:
    """Apply the ``assign`` proposals if auto mode is on and the interval has passed.

    The settings row is locked and the last change re-read inside the write
    transaction, so two processes ticking at once cannot both apply.
    """
    with db.write(origin="scheduler") as session:
        settings = AutoSettings.of(auto_row_for_update(session))
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


def workload_tick(
    db: Database, hall: HallConfig, now: dt.datetime
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Compute proposals and, in auto mode, apply the ``assign`` ones.

    Returns the audit records of what auto mode applied (empty when nothing)
    and the proposals as they stand afterwards, for the manager's page.
    """
    proposals, settings = compute_proposals(db, hall, now)
    applied: list[dict[str, Any]] = []
    if settings.enabled and any(p.kind == "assign" for p in proposals):
        applied = _apply_automatically(db, proposals, now)
    if applied:
        log.info("auto mode changed window(s) %s", [a["window"] for a in applied])
    return applied, proposals_payload(db, hall, now)


def change_auto_settings(
    session: Session,
    now: dt.datetime,
    actor: str,
    *,
    enabled: bool | None = None,
    min_windows_per_service: int | None = None,
    min_interval_minutes: float | None = None,
) -> dict[str, Any]:
    """Change auto-mode settings in the caller's transaction; a real change is audited
    with ``actor``, the manager's login."""
    row = auto_row_for_update(session)
    before = AutoSettings.of(row)
    if enabled is not None:
        row.enabled = enabled
    if min_windows_per_service is not None:
        row.min_windows_per_service = min_windows_per_service
    if min_interval_minutes is not None:
        row.min_interval_minutes = float(min_interval_minutes)
    after = AutoSettings.of(row)
    if after != before:
        session.add(WorkloadChange(
            at=now, actor=actor, origin=session.info.get("origin"), kind="auto_mode",
            window_number=None,
            record={"at": iso_utc(now), "actor": actor,
                    "before": auto_view(before, None), "after": auto_view(after, None)},
        ))
    view = auto_view(after, last_change_at(session))
    events.record(session, WorkloadChanged({"auto": view}))
    return view
