"""Window workload assignment: which window calls which services, from queueing theory.

(Over 500 lines on purpose: Erlang C, the demand it is fed, the search over
assignments and the proposal it yields are one model read top to bottom.)

Measure demand per service (waiting tickets, recent arrival rates, recent
service times), predict the queue every service will have under an
assignment of services to windows, and search for a few changes — serve
another service, open a closed window, move a clerk — that lower the number
of people waiting in the hall. A manager accepts proposals one by one, or
auto mode applies them within limits (`Rules`).

The prediction (`predicted_waiting`) and its approximations:

* Shared windows. A window calling several services takes the oldest ticket
  of them all, so its time goes to whichever of them is furthest behind.
  Modelled as: each service's load (arrivals plus its backlog spread over
  the horizon, times mean service time) first spreads evenly over the open
  windows serving it and a shared window's time is split in proportion to
  the load each service brings it; then a few multiplicative steps
  (``SPLIT_ROUNDS``) move shared time towards the services with the higher
  utilisation, evening utilisation out as oldest-first calling does. A
  service served by ``n`` windows with ``f`` windows' worth of time in all
  is modelled as an M/M/n queue whose servers work at ``f/n`` of a clerk's
  speed.
* Backlog. Erlang C describes a steady state and ignores people already in
  line, so over the next ``H`` minutes (``Rules.horizon_minutes``) a service
  has a fluid queue — the backlog draining, or growing when arrivals exceed
  capacity — whose people still in line at the end are counted until they
  are served at full capacity (else a planner would happily let a slow
  service pile up just past the horizon), plus the Erlang C queue length.
  The Erlang part is capped at ``sqrt(λ·H)``: near ρ = 1 the steady-state
  queue explodes, but a queue that starts short cannot grow beyond its
  random-walk spread within the horizon. So the figure stays finite and
  continuous when a service is overloaded, and the search can rank such
  states; only a service no window serves is infinite, and the search ranks
  "nobody stranded" above any queue.

The quantity minimised is that waiting in person-minutes per minute of the
horizon — people waiting on average — summed over services: by Little's law
Σ λ_s·W_s, the total waiting time. Times are minutes, rates are per minute.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.queue.models import Service, Ticket, Window, WindowService
from hall_ops.queue.views import mean_service_minutes

# ---------------------------------------------------------------- Erlang C


def erlang_c(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Probability that an arrival has to wait in an M/M/c queue (Erlang C).

    Computed from Erlang B by the recursion B(k) = a·B(k-1) / (k + a·B(k-1)),
    which never forms a^c or c! and so stays accurate for large ``c``;
    then C = c·B / (c − a·(1 − B)). An unstable queue (ρ ≥ 1) always waits.
    """
    if servers < 0 or arrival_rate < 0 or service_rate < 0:
        raise ValueError("servers and rates must not be negative")
    if arrival_rate == 0:
        return 0.0
    if servers == 0 or service_rate == 0:
        return 1.0
    load = arrival_rate / service_rate
    if load >= servers:
        return 1.0
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return servers * blocking / (servers - load * (1 - blocking))


def expected_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean wait in line W_q = C / (c·μ − λ); infinite when ρ ≥ 1."""
    if arrival_rate == 0:
        return 0.0
    spare = servers * service_rate - arrival_rate
    if spare <= 0:
        return math.inf
    return erlang_c(servers, arrival_rate, service_rate) / spare


def wait_percentile(
    servers: int, arrival_rate: float, service_rate: float, fraction: float
) -> float:
    """The wait that ``fraction`` of arrivals do not exceed.

    In M/M/c, P(W_q > t) = C·exp(−(cμ − λ)·t), so the quantile is
    ln(C / (1 − fraction)) / (cμ − λ), or zero when at least that fraction
    never waits.
    """
    if not 0 <= fraction < 1:
        raise ValueError("fraction must be in [0, 1)")
    if arrival_rate == 0:
        return 0.0
    spare = servers * service_rate - arrival_rate
    if spare <= 0:
        return math.inf
    waits = erlang_c(servers, arrival_rate, service_rate)
    if waits <= 1 - fraction:
        return 0.0
    return math.log(waits / (1 - fraction)) / spare


def predicted_waiting(
    servers: int, arrival_rate: float, capacity: float, backlog: float, horizon: float
) -> float:
    """Waiting one service causes over the next ``horizon`` minutes, in people waiting on average.

    ``capacity`` is people per minute all ``servers`` together can serve.
    Person-minutes of waiting, divided by the horizon: the fluid queue
    Q(t) = max(0, backlog + (λ − capacity)·t) over the horizon, plus the
    wait of whoever is still in line at its end until served at full
    capacity (Q(H)² / 2·capacity; without it a planner would let slow
    services pile up just past the horizon), plus the capped Erlang C queue
    length (module docstring). Infinite when someone needs a service that no
    window serves.
    """
    if capacity <= 0 or servers == 0:
        return math.inf if arrival_rate > 0 or backlog > 0 else 0.0
    drift = arrival_rate - capacity
    if drift < 0 and backlog / -drift <= horizon:
        area = backlog * backlog / -drift / 2
    else:
        left = backlog + drift * horizon
        area = (backlog + left) / 2 * horizon + left * left / (2 * capacity)
    spread = math.sqrt(arrival_rate * horizon)
    if drift >= 0:
        return area / horizon + spread
    utilisation = arrival_rate / capacity
    in_line = erlang_c(servers, arrival_rate, capacity / servers) * utilisation / (1 - utilisation)
    return area / horizon + min(in_line, spread)


# ---------------------------------------------------------------- demand


@dataclass(frozen=True)
class Demand:
    """What one service needs now. Rates are arrivals per minute."""

    service_code: str
    waiting: int
    rate_15: float
    rate_60: float
    mean_service_minutes: float
    occupancy_trend: float = 0.0
    """Relative change of people present in the service's zone (+0.2: 20 % more), from cameras."""
    name_zh: str = ""
    name_en: str = ""

    @property
    def forecast_rate(self) -> float:
        """Arrivals per minute expected next: the last 15 and 60 minutes blended,
        nudged by the zone's occupancy trend (people in the hall take tickets
        soon). The trend is clamped so one noisy camera count cannot swing it."""
        trend = min(1.0, max(-0.5, self.occupancy_trend))
        return (0.5 * self.rate_15 + 0.5 * self.rate_60) * (1 + trend)


def measure_demand(
    session: Session,
    now: dt.datetime,
    *,
    day: dt.date | None = None,
    opened_at: dt.datetime | None = None,
    occupancy_trend: Mapping[str, float] | None = None,
    sample: int = 20,
) -> dict[str, Demand]:
    """Demand of every service from the ticket table.

    ``day`` limits waiting tickets to that hall day (stale ones from earlier
    days are not demand). ``opened_at`` (the hall's opening today) shortens
    the rate windows early in the day, so the first hour is not read as quiet.
    ``occupancy_trend`` is by zone code. Service time is the mean of the last
    ``sample`` finished tickets, or the configured guess when there are none.
    """
    services = session.scalars(select(Service).order_by(Service.position)).all()
    waiting_query = select(Ticket.service_code, func.count()).where(Ticket.status == "waiting")
    if day is not None:
        waiting_query = waiting_query.where(Ticket.day == day)
    waiting = dict(session.execute(waiting_query.group_by(Ticket.service_code)).all())

    def rate(minutes: float) -> dict[str, float]:
        since = now - dt.timedelta(minutes=minutes)
        if opened_at is not None and opened_at > since:
            since = opened_at
        span = max((now - since).total_seconds() / 60, 1.0)
        rows = session.execute(
            select(Ticket.service_code, func.count())
            .where(Ticket.taken_at > since, Ticket.taken_at <= now, Ticket.status != "cancelled")
            .group_by(Ticket.service_code)
        ).all()
        return {code: count / span for code, count in rows}

    rate_15, rate_60 = rate(15), rate(60)
    trends = occupancy_trend or {}
    demand: dict[str, Demand] = {}
    for service in services:
        mean_minutes = mean_service_minutes(session, service, sample, until=now)
        demand[service.code] = Demand(
            service_code=service.code,
            waiting=waiting.get(service.code, 0),
            rate_15=rate_15.get(service.code, 0.0),
            rate_60=rate_60.get(service.code, 0.0),
            mean_service_minutes=mean_minutes,
            occupancy_trend=trends.get(service.zone_code, 0.0),
            name_zh=service.name_zh,
            name_en=service.name_en,
        )
    return demand


# ---------------------------------------------------------------- capacity


@dataclass(frozen=True)
class WindowSlot:
    """A window as the planner sees it: open (a clerk is there) or not, and what it calls."""

    number: int
    zone_code: str
    is_open: bool
    services: frozenset[str]


@dataclass(frozen=True)
class Capacity:
    """Windows and their skills. Open windows can be reassigned; closed ones opened."""

    windows: tuple[WindowSlot, ...]
    skills: dict[int, frozenset[str]]

    @property
    def open_windows(self) -> tuple[WindowSlot, ...]:
        return tuple(w for w in self.windows if w.is_open)

    @property
    def closed_windows(self) -> tuple[WindowSlot, ...]:
        return tuple(w for w in self.windows if not w.is_open)


def measure_capacity(session: Session, skills: Mapping[int, Collection[str]]) -> Capacity:
    """Windows in service (not retired) from the table; ``skills``: window → services it may serve
    (``zones.skills.window_skills`` in the hall; a test may name its own)."""
    windows = session.scalars(
        select(Window).where(Window.retired_at.is_(None)).order_by(Window.number)
    ).all()
    known = skills
    return Capacity(
        windows=tuple(
            WindowSlot(w.number, w.zone_code, w.state != "closed", frozenset(w.service_codes))
            for w in windows
        ),
        skills={w.number: frozenset(known.get(w.number, ())) for w in windows},
    )


# ---------------------------------------------------------------- rules and proposals


@dataclass(frozen=True)
class Rules:
    """Limits on what the planner may propose and how often auto mode may act."""

    min_windows: Mapping[str, int] = field(default_factory=dict)
    """Per service: open windows that must keep serving it."""
    default_min_windows: int = 1
    max_services_per_window: int = 3
    horizon_minutes: float = 30.0
    min_gain: float = 1.0
    """A change must lower the average number of people waiting by at least this."""
    move_cost: float = 2.0
    """Extra gain required to send a clerk to another window (walking, handover)."""
    max_changes: int = 3
    """Proposals per run: a hall is not reshuffled all at once."""
    allow_moves: bool = True
    min_interval_minutes: float = 15.0
    """Auto mode: no change more often than this."""

    def minimum(self, service_code: str) -> int:
        return self.min_windows.get(service_code, self.default_min_windows)


@dataclass(frozen=True)
class Proposal:
    """One change to the assignment, with its predicted effect.

    ``kind`` is ``assign`` (an open window calls other services), ``open`` (a
    closed window opens for a clerk not at any window) or ``move`` (the clerk
    of ``clerk_from_window`` closes it and opens ``window``). Proposals come
    in order; each one's ``before`` and ``after`` (minutes of predicted wait
    per affected service) assume the earlier ones are applied.
    """

    kind: str
    window: int
    from_services: tuple[str, ...]
    to_services: tuple[str, ...]
    clerk_from_window: int | None
    before: dict[str, float]
    after: dict[str, float]
    gain: float
    """Fewer people waiting on average over the horizon (negative when the change takes up a
    service no window served: its queue is counted from then on)."""
    reason_zh: str
    reason_en: str


SPLIT_ROUNDS = 3
"""Steps evening out the utilisation of services that share windows."""


def _normalised(values: Mapping[str, float]) -> dict[str, float]:
    total = sum(values.values())
    return {c: v / total for c, v in values.items()} if total > 0 else {}


def _add_splits(
    dedicated: Mapping[str, float], splits: Sequence[Mapping[str, float]]
) -> dict[str, float]:
    """Windows' worth of time each service gets: its own windows plus its shares of shared ones."""
    windows = dict(dedicated)
    for split in splits:
        for code, fraction in split.items():
            windows[code] += fraction
    return windows


def _service_counts(assignment: Mapping[int, frozenset[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for services in assignment.values():
        for code in services:
            counts[code] = counts.get(code, 0) + 1
    return counts


class _Model:
    """Predicts every service's queue for an assignment {open window: services}."""

    def __init__(self, demand: Mapping[str, Demand], horizon: float) -> None:
        self.demand = demand
        self.horizon = horizon
        self.rate = {c: d.forecast_rate for c, d in demand.items()}
        self.mu = {c: 1 / max(d.mean_service_minutes, 0.1) for c, d in demand.items()}
        self.weight = {
            c: (self.rate[c] + d.waiting / horizon) * d.mean_service_minutes
            for c, d in demand.items()
        }

    def servers(self, assignment: Mapping[int, frozenset[str]]) -> dict[str, tuple[int, float]]:
        """Per service: windows serving it and the people per minute they can serve."""
        count = _service_counts(assignment)
        weight = self.weight
        dedicated = dict.fromkeys(count, 0.0)
        splits: list[dict[str, float]] = []
        for services in assignment.values():
            if len(services) == 1:
                for code in services:
                    dedicated[code] += 1.0
                continue
            brought = {c: weight.get(c, 0.0) / count[c] for c in services}
            splits.append(_normalised(brought) or dict.fromkeys(services, 1 / len(services)))
        for _ in range(SPLIT_ROUNDS if splits else 0):
            windows = _add_splits(dedicated, splits)
            utilisation = {c: weight.get(c, 0.0) / n if n > 0 else 0.0 for c, n in windows.items()}
            splits = [
                _normalised({c: f * utilisation[c] for c, f in split.items()}) or split
                for split in splits
            ]
        windows = _add_splits(dedicated, splits)
        return {c: (count[c], windows[c] * self.mu.get(c, 0.0)) for c in count}

    def waiting(self, code: str, servers: int, capacity: float) -> float:
        d = self.demand.get(code)
        if d is None:
            return 0.0
        return predicted_waiting(servers, self.rate[code], capacity, d.waiting, self.horizon)

    def wait_minutes(self, code: str, servers: int, capacity: float) -> float:
        """Mean wait of the people served over the horizon (Little's law); inf with no window."""
        d = self.demand.get(code)
        if d is None:
            return 0.0
        needing = self.rate[code] + d.waiting / self.horizon
        if needing == 0:
            return 0.0
        return self.waiting(code, servers, capacity) / needing

    def cost(self, assignment: Mapping[int, frozenset[str]]) -> tuple[float, float]:
        """(people needing a service no window serves, people waiting on average).

        Compared in that order: leaving a service unserved is worse than any queue.
        """
        state = self.servers(assignment)
        stranded, waiting = 0.0, 0.0
        for code, d in self.demand.items():
            value = self.waiting(code, *state.get(code, (0, 0.0)))
            if math.isinf(value):
                stranded += d.waiting + self.rate[code] * self.horizon
            else:
                waiting += value
        return stranded, waiting

    def waits(
        self, assignment: Mapping[int, frozenset[str]], codes: Collection[str]
    ) -> dict[str, float]:
        state = self.servers(assignment)
        return {c: round(self.wait_minutes(c, *state.get(c, (0, 0.0))), 1) for c in sorted(codes)}


@dataclass(frozen=True)
class _Change:
    kind: str
    window: int
    services: frozenset[str]
    source: int | None = None


def _candidates(
    assignment: Mapping[int, frozenset[str]],
    closed: Collection[int],
    skills: Mapping[int, frozenset[str]],
    rules: Rules,
    spare_clerks: int,
    touched: Collection[int],
) -> Iterator[_Change]:
    for number in sorted(assignment):
        if number in touched:
            continue
        current = assignment[number]
        addable = sorted(skills.get(number, frozenset()) - current)
        if len(current) < rules.max_services_per_window:
            for code in addable:
                yield _Change("assign", number, current | {code})
        for old in sorted(current):
            if len(current) > 1:
                yield _Change("assign", number, current - {old})
            for code in addable:
                yield _Change("assign", number, (current - {old}) | {code})
    for number in sorted(closed):
        if number in touched:
            continue
        for code in sorted(skills.get(number, frozenset())):
            if spare_clerks > 0:
                yield _Change("open", number, frozenset({code}))
            if rules.allow_moves:
                for source in sorted(assignment):
                    if source not in touched:
                        yield _Change("move", number, frozenset({code}), source)


def _apply_change(
    assignment: Mapping[int, frozenset[str]], change: _Change
) -> dict[int, frozenset[str]]:
    result = dict(assignment)
    if change.source is not None:
        del result[change.source]
    result[change.window] = change.services
    return result


def _keeps_minimums(
    assignment: Mapping[int, frozenset[str]], counts: Mapping[str, int], change: _Change,
    rules: Rules,
) -> bool:
    """No service may drop below its minimum of windows (one already below may not drop further)."""
    losing = set(assignment.get(change.window, frozenset()))
    if change.source is not None:
        losing |= assignment[change.source]
    for code in losing - change.services:
        have = counts[code]
        lost = (code in assignment.get(change.window, ())) + (
            change.source is not None and code in assignment[change.source]
        )
        if have - lost < min(have, rules.minimum(code)):
            return False
    return True


def propose(
    demand: Mapping[str, Demand],
    windows: Sequence[WindowSlot],
    skills: Mapping[int, Collection[str]],
    rules: Rules = Rules(),
    *,
    spare_clerks: int = 0,
) -> list[Proposal]:
    """Greedy best-improvement search over single changes, at most ``rules.max_changes``.

    Each round tries every allowed change — an open window adds, drops or
    swaps one service; a closed window opens with one service (only with
    ``spare_clerks``); a clerk moves from an open window to a closed one —
    and keeps the one that lowers the predicted number of people waiting
    most, if by at least ``rules.min_gain`` (plus ``rules.move_cost`` when
    a clerk has to walk). A window is changed at most once per run, so the
    proposals never undo each other. Additions must be in the window's
    skills; no change may leave a service below its minimum of windows.
    """
    model = _Model(demand, rules.horizon_minutes)
    skill_sets = {n: frozenset(s) for n, s in skills.items()}
    assignment = {w.number: w.services for w in windows if w.is_open}
    configured = {w.number: w.services for w in windows}
    closed = {w.number for w in windows if not w.is_open}
    stranded, cost = model.cost(assignment)
    touched: set[int] = set()
    proposals: list[Proposal] = []
    while len(proposals) < rules.max_changes:
        best: tuple[tuple[float, float], _Change, dict[int, frozenset[str]]] | None = None
        counts = _service_counts(assignment)
        for change in _candidates(assignment, closed, skill_sets, rules, spare_clerks, touched):
            if not _keeps_minimums(assignment, counts, change, rules):
                continue
            after = _apply_change(assignment, change)
            stranded_after, cost_after = model.cost(after)
            if stranded_after > stranded:
                continue
            # Serving a stranded service beats any queue; otherwise the queue must shrink enough.
            rescued = stranded - stranded_after
            gain = cost - cost_after
            needed = rules.min_gain + (rules.move_cost if change.kind != "assign" else 0.0)
            if (rescued > 0 or gain >= needed) and (best is None or (rescued, gain) > best[0]):
                best = ((rescued, gain), change, after)
        if best is None:
            break
        (rescued, gain), change, after = best
        proposals.append(
            _proposal(model, demand, assignment, after, change, configured, gain)
        )
        assignment, stranded, cost = after, stranded - rescued, cost - gain
        touched.update(n for n in (change.window, change.source) if n is not None)
        closed.discard(change.window)
        if change.source is not None:
            closed.add(change.source)
        if change.kind == "open":
            spare_clerks -= 1
    return proposals


def _fmt(minutes: float) -> str:
    return "∞" if math.isinf(minutes) else f"{minutes:.0f}"


def _proposal(
    model: _Model,
    demand: Mapping[str, Demand],
    before: Mapping[int, frozenset[str]],
    after: Mapping[int, frozenset[str]],
    change: _Change,
    configured: Mapping[int, frozenset[str]],
    gain: float,
) -> Proposal:
    old = before.get(change.window, frozenset())
    affected = set(old) | set(change.services)
    if change.source is not None:
        affected |= before[change.source]
    waits_before = model.waits(before, affected)
    waits_after = model.waits(after, affected)

    def name(code: str, lang: str) -> str:
        d = demand.get(code)
        label = (d.name_zh if lang == "zh" else d.name_en) if d else ""
        return label or code

    def names(codes: Collection[str], lang: str) -> str:
        return ("、" if lang == "zh" else ", ").join(name(c, lang) for c in sorted(codes))

    n = change.window
    if change.kind == "assign":
        added, dropped = change.services - old, old - change.services
        if added and dropped:
            zh = f"{n}号窗口改办{names(added, 'zh')}（不再办理{names(dropped, 'zh')}）"
            en = f"Window {n}: serve {names(added, 'en')} instead of {names(dropped, 'en')}"
        elif added:
            zh = f"{n}号窗口增办{names(added, 'zh')}"
            en = f"Window {n}: also serve {names(added, 'en')}"
        else:
            zh = f"{n}号窗口停办{names(dropped, 'zh')}"
            en = f"Window {n}: stop serving {names(dropped, 'en')}"
    elif change.kind == "open":
        zh = f"开启{n}号窗口办理{names(change.services, 'zh')}（需工作人员登录）"
        en = f"Open window {n} for {names(change.services, 'en')} (a clerk has to log in)"
    else:
        zh = f"{change.source}号窗口工作人员移至{n}号窗口办理{names(change.services, 'zh')}"
        en = (
            f"Clerk of window {change.source} moves to window {n} "
            f"for {names(change.services, 'en')}"
        )
    zh_parts, en_parts = [], []
    for code in sorted(affected):
        waiting = demand[code].waiting if code in demand else 0
        b, a = _fmt(waits_before[code]), _fmt(waits_after[code])
        zh_parts.append(f"{name(code, 'zh')}：等候{waiting}人，预计等候{b}→{a}分钟")
        en_parts.append(f"{name(code, 'en')}: {waiting} waiting, predicted wait {b} → {a} min")
    return Proposal(
        kind=change.kind,
        window=n,
        from_services=tuple(sorted(configured.get(n, frozenset()))),
        to_services=tuple(sorted(change.services)),
        clerk_from_window=change.source,
        before=waits_before,
        after=waits_after,
        gain=round(gain, 2),
        reason_zh=zh + "。" + "；".join(zh_parts) + "。",
        reason_en=en + ". " + "; ".join(en_parts) + ".",
    )


# ---------------------------------------------------------------- applying


def apply_proposal(
    session: Session, proposal: Proposal, actor: str, now: dt.datetime
) -> dict[str, Any]:
    """Rewrite the window's services as proposed; returns the audit record.

    Refuses a proposal made against a state that has changed since (other
    services, or a window opened or closed meanwhile). An ``open`` or
    ``move`` only prepares the closed window's services and asks for it to
    be opened: a clerk still has to log in there (and, for a move, log out
    of ``clerk_from_window``).
    """
    window = session.scalars(
        select(Window).where(Window.number == proposal.window).with_for_update()
    ).first()
    if window is None:
        raise NotFound(f"unknown window {proposal.window}", code="unknown_window")
    if window.retired_at is not None:
        raise Conflict(f"window {proposal.window} is closed for good", code="window_retired")
    current = tuple(sorted(window.service_codes))
    if current != proposal.from_services:
        raise Conflict(
            f"window {proposal.window} changed since the proposal was made",
            code="stale_proposal",
            current=list(current),
        )
    wants_closed = proposal.kind in ("open", "move")
    if wants_closed != (window.state == "closed"):
        raise Conflict(
            f"window {proposal.window} was {'opened' if wants_closed else 'closed'} "
            "since the proposal was made",
            code="stale_proposal",
        )
    if not proposal.to_services:
        raise InvalidInput("a window must serve at least one service", code="no_services")
    known = set(
        session.scalars(select(Service.code).where(Service.code.in_(proposal.to_services)))
    )
    unknown = sorted(set(proposal.to_services) - known)
    if unknown:
        raise InvalidInput(f"unknown services {unknown}", code="unknown_service")
    kept = {a.service_code: a for a in window.assignments}
    window.assignments = [
        kept.get(code) or WindowService(service_code=code) for code in proposal.to_services
    ]
    session.flush()

    def minutes(values: Mapping[str, float]) -> dict[str, float | None]:
        return {c: None if math.isinf(v) else v for c, v in values.items()}

    return {
        "at": now.replace(tzinfo=dt.UTC).isoformat(),
        "actor": actor,
        "kind": proposal.kind,
        "window": proposal.window,
        "from_services": list(proposal.from_services),
        "to_services": list(proposal.to_services),
        "open_requested": wants_closed,
        "clerk_from_window": proposal.clerk_from_window,
        "predicted_wait_before": minutes(proposal.before),
        "predicted_wait_after": minutes(proposal.after),
        "gain": proposal.gain,
        "reason_zh": proposal.reason_zh,
        "reason_en": proposal.reason_en,
    }


def may_apply_automatically(
    last_change_at: dt.datetime | None, now: dt.datetime, rules: Rules
) -> bool:
    """Auto mode acts at most once every ``rules.min_interval_minutes``."""
    if last_change_at is None:
        return True
    return now - last_change_at >= dt.timedelta(minutes=rules.min_interval_minutes)
