"""The regional overview: every hall of a deployment live, and each node of the hierarchy
summed over the halls below it, for managers above one hall.

Each hall is read from its own database with the hall's own rules (the same functions its
dashboard uses): waiting tickets and the longest current wait (``hall_ops.queue``), open
windows, people present (``sensors.poller.zone_occupancy`` over ``zones.occupancy``),
overdue items, today's 好差评 (``hall_ops.evaluation.figures.ratings_given``) and the
manager's alerts (``hall_ops.floor.alerts.build_alerts``). It is a dozen indexed queries per
hall, so a province's hundred halls are read in one refresh (``bench/regional_overview.py``).

Overdue items are the supervision cards (电子监察, ``hall_ops.cases.supervision``) as the
deadline job last recorded them, at most its interval (5 minutes) old: one grouped count,
where measuring every open item's clock now would load each item's history on every refresh.
A hall whose database does not answer is reported as unavailable; the others still show.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hall_ops import printing, queue
from hall_ops.cases.intake import OPEN_STATUSES
from hall_ops.cases.models import CaseItem
from hall_ops.clock import hall_day, iso_utc
from hall_ops.config import HallConfig
from hall_ops.db import Database
from hall_ops.evaluation import figures, rectification
from hall_ops.evaluation.ratings import EvaluationRules
from hall_ops.floor.alerts import build_alerts, screens_today
from hall_ops.queue.models import Ticket, Window
from hall_ops.region.access import subtree
from hall_ops.region.directory import HallDirectory, HallRef
from sensors.poller import zone_occupancy
from sensors.status import camera_statuses
from zones.occupancy import waiting_per_zone

log = logging.getLogger(__name__)


@dataclass
class Figures:
    """One hall's figures now, or a node's summed over its halls (the longest wait: the
    longest of them; the good-rating rate: over all their ratings)."""

    halls: int = 0
    """Halls counted (that answered)."""
    unavailable: int = 0
    """Halls whose database did not answer: left out of every other figure."""
    waiting: int = 0
    longest_wait_minutes: float = 0.0
    """Since the oldest waiting ticket of today was taken; 0 with nobody waiting."""
    open_windows: int = 0
    windows: int = 0
    people: int = 0
    """People present: camera counts, or an estimate from waiting tickets where a zone has
    no camera (``people_estimated``)."""
    people_estimated: bool = False
    """Some of ``people`` was estimated from waiting tickets."""
    overdue_items: int = 0
    """Undecided case items whose supervision card is red (past their legal limit)."""
    warning_items: int = 0
    """Yellow cards: near their limit."""
    ratings: int = 0
    """好差评 given today (appeals accepted left out)."""
    good_ratings: int = 0
    good_rate: float | None = None
    alerts: int = 0
    critical_alerts: int = 0

    def add(self, other: Figures) -> None:
        self.halls += other.halls
        self.unavailable += other.unavailable
        self.waiting += other.waiting
        self.longest_wait_minutes = max(self.longest_wait_minutes, other.longest_wait_minutes)
        self.open_windows += other.open_windows
        self.windows += other.windows
        self.people += other.people
        self.people_estimated = self.people_estimated or other.people_estimated
        self.overdue_items += other.overdue_items
        self.warning_items += other.warning_items
        self.ratings += other.ratings
        self.good_ratings += other.good_ratings
        self.good_rate = round(self.good_ratings / self.ratings, 4) if self.ratings else None
        self.alerts += other.alerts
        self.critical_alerts += other.critical_alerts


@dataclass
class NodeRow:
    """A node of the hierarchy as the overview lists it: the node's own hall figures (a node
    with a floor) and the total over its subtree."""

    code: str
    name_zh: str
    name_en: str
    level: str
    parent: str | None
    depth: int
    floor: bool
    own: Figures | None
    """The node's own hall (None: a region without a floor, or a hall that did not answer,
    see ``available``)."""
    total: Figures
    available: bool = True
    """False for a hall whose database did not answer."""


@dataclass
class RegionalOverview:
    at: dt.datetime
    nodes: list[NodeRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"at": iso_utc(self.at), "nodes": [asdict(n) for n in self.nodes]}


def _longest_wait(session: Session, day: dt.date, now: dt.datetime) -> float:
    first = session.scalar(
        select(func.min(Ticket.taken_at)).where(Ticket.status == "waiting", Ticket.day == day))
    return round(max((now - first).total_seconds(), 0) / 60, 1) if first else 0.0


def _windows(session: Session) -> tuple[int, int]:
    """(open, all): a window is open unless ``closed`` (idle, calling, serving, paused)."""
    total, closed = session.execute(select(
        func.count(Window.number),
        func.coalesce(func.sum(case((Window.state == "closed", 1), else_=0)), 0),
    )).one()
    return int(total) - int(closed), int(total)


def _cards(session: Session) -> list[dict[str, Any]]:
    """Undecided items with a yellow or red card, in ``build_alerts``'s shape."""
    rows = session.execute(
        select(CaseItem.id, CaseItem.card)
        .where(CaseItem.status.in_(OPEN_STATUSES), CaseItem.card.in_(("yellow", "red")))
    ).all()
    return [{"item_id": item_id, "overdue": card == "red"} for item_id, card in rows]


def hall_figures(db: Database, hall: HallConfig, now: dt.datetime) -> Figures:
    """One hall now, read in one transaction (plus the occupancy's own read)."""
    day = hall_day(now, hall.timezone)
    rules = EvaluationRules.from_config(hall)
    with db.read() as session:
        waiting = queue.waiting_by_service(session, day)
        open_by_service = queue.open_windows_by_service(session)
        longest = _longest_wait(session, day, now)
        open_windows, windows = _windows(session)
        per_zone = waiting_per_zone(session, hall, now)
        cards = _cards(session)
        rated = figures.ratings_given(session, rules, day, day)
        # what build_alerts reads of a queue snapshot, without the full snapshot's means
        snapshot = {"services": [
            {"code": code, "waiting": waiting.get(code, 0),
             "open_windows": open_by_service.get(code, 0)}
            for code in sorted(set(waiting) | set(open_by_service))]}
        alerts = build_alerts(
            snapshot, camera_statuses(hall, session), cards, hall.dashboard.queue_alert,
            rectification.overdue_count(session, day), screens_today(session, hall, now), now,
            printing.statuses(session, printing.printers_from_config(hall.sections)))
    zones = zone_occupancy(db, now, per_zone)
    counted = [z for z in zones.values() if z.count is not None]
    return Figures(
        halls=1,
        waiting=sum(waiting.values()),
        longest_wait_minutes=longest,
        open_windows=open_windows,
        windows=windows,
        people=sum(z.count or 0 for z in counted),
        people_estimated=any(z.estimate and z.count for z in counted),
        overdue_items=sum(1 for c in cards if c["overdue"]),
        warning_items=sum(1 for c in cards if not c["overdue"]),
        ratings=rated.ratings,
        good_ratings=rated.good,
        good_rate=rated.good_rate,
        alerts=len(alerts),
        critical_alerts=sum(1 for a in alerts if a["severity"] == "critical"),
    )


class FiguresCache:
    """Each hall's figures, read at most once per ``max_age``: however many managers poll the
    overview, a hall's database is read once per interval (one per process); a request that
    finds a hall being read waits for that read rather than reading it again."""

    def __init__(self, max_age: dt.timedelta) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._reading: dict[str, threading.Lock] = {}
        self._kept: dict[str, tuple[dt.datetime, Figures]] = {}

    def _fresh(self, code: str, now: dt.datetime) -> Figures | None:
        with self._lock:
            kept = self._kept.get(code)
        if kept is not None and dt.timedelta(0) <= now - kept[0] < self.max_age:
            return kept[1]
        return None

    def figures(self, code: str, now: dt.datetime, read: Callable[[], Figures]) -> Figures:
        found = self._fresh(code, now)
        if found is not None:
            return found
        with self._lock:
            reading = self._reading.setdefault(code, threading.Lock())
        with reading:
            found = self._fresh(code, now)  # read by the request this one waited for
            if found is not None:
                return found
            fresh = read()
            with self._lock:
                self._kept[code] = (now, fresh)
            return fresh


def regional_overview(directory: HallDirectory, now: dt.datetime,
                      within: Collection[str] | None = None,
                      cache: FiguresCache | None = None) -> RegionalOverview:
    """Every enabled hall's figures and each node's total over its subtree, in hierarchy
    order. ``within``: the nodes whose subtrees the viewer may see (None: the whole
    deployment); only the halls in them are read (through ``cache`` if given)."""
    nodes = directory.nodes()
    shown = subtree(nodes, within) if within is not None else {n.code for n in nodes}
    nodes = [n for n in nodes if n.code in shown]
    by_code = {n.code: n for n in nodes}
    own: dict[str, Figures | None] = {}
    for hall in directory.halls():
        if hall.code not in shown:
            continue
        def read(code: str = hall.code) -> Figures:
            return hall_figures(directory.database(code), directory.config(code), now)

        try:
            own[hall.code] = cache.figures(hall.code, now, read) if cache else read()
        except SQLAlchemyError:
            log.exception("regional overview: hall %s did not answer", hall.code)
            own[hall.code] = None

    def depth(node: HallRef) -> int:
        d, parent = 0, node.parent
        while parent in by_code:
            d, parent = d + 1, by_code[parent].parent
        return d

    totals = {n.code: Figures() for n in nodes}
    for code, figures_ in own.items():
        counted = figures_ if figures_ is not None else Figures(unavailable=1)
        node: HallRef | None = by_code.get(code)
        while node is not None:  # the hall's own node and every node above it shown
            totals[node.code].add(counted)
            node = by_code.get(node.parent) if node.parent is not None else None
    overview = RegionalOverview(at=now)
    for n in nodes:
        overview.nodes.append(NodeRow(
            code=n.code, name_zh=n.name_zh, name_en=n.name_en, level=n.level,
            parent=n.parent if n.parent in by_code else None, depth=depth(n), floor=n.floor,
            own=own.get(n.code), total=totals[n.code],
            available=not (n.code in own and own[n.code] is None)))
    return overview
