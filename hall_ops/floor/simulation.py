"""A hall day as a discrete-event simulation, to judge assignment policies.

Pure in-memory and seeded, so a whole day runs in well under a second and
two policies can be compared on exactly the same citizens: the arrivals and
each citizen's service time are drawn once per seed (common random numbers)
and replayed under every policy.

* Arrivals per service are Poisson with a rate that changes over the day
  (morning peak, lunch dip, afternoon peak), drawn by thinning. Services
  lean to the morning or the afternoon (``SimService.morning_bias``: real
  estate comes early, results are fetched late), and every service has a
  seeded day factor: on a real day some boards are busier than planned.
* Service times are lognormal (or exponential) around the service's mean.
* Windows call the oldest waiting ticket of their services, as
  ``hall_ops.queue.call_next`` does; no priorities, no no-shows.
* Policies: ``static`` keeps the configured assignment all day;
  ``workload`` runs ``hall_ops.floor.workload.propose`` on the simulated state
  every few minutes and applies what it proposes, at most once per
  ``Rules.min_interval_minutes`` (auto mode). A reassigned window finishes
  its current citizen first; a moving clerk finishes, walks
  (``Scenario.move_minutes``) and opens the other window.

The hall serves everyone who took a ticket before closing; a wait is take →
call, in minutes.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from bisect import bisect_left
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any, cast

from hall_ops.config import HallConfig
from hall_ops.floor.workload import (
    Demand,
    Rules,
    WindowSlot,
    may_apply_automatically,
    propose,
)
from hall_ops.reports.tickets import percentile
from zones.skills import window_skills

HALL_PROFILE: tuple[tuple[float, float], ...] = (
    (0, 0.7),      # 08:30 doors open
    (60, 1.4),     # 09:30 morning peak
    (150, 1.3),    # 11:00
    (210, 0.6),    # 12:00 lunch dip
    (300, 0.5),    # 13:30
    (360, 1.3),    # 14:30 afternoon peak
    (450, 1.2),    # 16:00
    (540, 0.5),    # 17:30 closing
)
"""Arrival rate multiplier by minutes after opening; linear in between."""

MORNING_BIAS: dict[str, float] = {
    "real_estate": 1.0,
    "social_security": 0.6,
    "utilities": 0.3,
    "notary": 0.3,
    "investment": 0.0,
    "egov_help": 0.0,
    "non_resident": -0.3,
    "business_services": -0.5,
    "delivery": -0.8,
    "enterprise": -1.0,
}
"""How strongly each demo service leans to the morning (+) or the afternoon (−)."""

BIAS_STRENGTH = 0.4
DEFAULT_RULES = Rules()


def profile_at(points: Sequence[tuple[float, float]], minute: float) -> float:
    """The multiplier of a piecewise-linear profile at ``minute``."""
    if minute <= points[0][0]:
        return points[0][1]
    for (t0, m0), (t1, m1) in pairwise(points):
        if minute <= t1:
            return m0 + (m1 - m0) * (minute - t0) / (t1 - t0)
    return points[-1][1]


@dataclass(frozen=True)
class SimService:
    code: str
    zone_code: str
    mean_service_minutes: float
    rate_per_hour: float
    """Arrivals per hour at profile multiplier 1 and day factor 1."""
    morning_bias: float = 0.0


@dataclass(frozen=True)
class SimWindow:
    number: int
    zone_code: str
    services: frozenset[str]
    is_open: bool = True


@dataclass(frozen=True)
class Scenario:
    services: tuple[SimService, ...]
    windows: tuple[SimWindow, ...]
    skills: dict[int, frozenset[str]]
    day_minutes: float = 540.0
    profile: tuple[tuple[float, float], ...] = HALL_PROFILE
    service_time: str = "lognormal"
    service_cv: float = 0.6
    day_factor_sigma: float = 0.25
    """Spread of each service's day factor: how far a day strays from the plan."""
    spare_clerks: int = 0
    move_minutes: float = 3.0

    def rate(self, service: SimService, minute: float, day_factor: float) -> float:
        """Arrivals per minute at ``minute`` after opening."""
        phase = math.cos(math.pi * minute / self.day_minutes)  # +1 at opening, −1 at closing
        lean = 1 + BIAS_STRENGTH * service.morning_bias * phase
        return service.rate_per_hour / 60 * profile_at(self.profile, minute) * lean * day_factor


@dataclass(frozen=True)
class SimTicket:
    id: int
    service_code: str
    taken_at: float
    service_minutes: float


@dataclass
class SimResult:
    policy: str
    waits: list[float]
    by_service: dict[str, list[float]]
    changes: int
    unserved: int

    @property
    def mean_wait(self) -> float:
        return sum(self.waits) / len(self.waits)

    @property
    def p90_wait(self) -> float:
        value = percentile(self.waits, 0.9)
        assert value is not None
        return value


def busy_day(
    hall: HallConfig,
    *,
    closed: Sequence[int] = (13, 20),
    utilisation: float = 0.8,
    biases: Mapping[str, float] = MORNING_BIAS,
    **options: Any,
) -> Scenario:
    """The configured hall on a busy day, a clerk at every window but ``closed``.

    Each service's base rate is what the configured (static) assignment was
    planned for: ``utilisation`` of the windows serving it over the day, a
    shared window counting as an equal share for each of its services. So the
    static plan fits an average day; a real day differs by the services'
    morning or afternoon lean and their seeded day factors. ``options`` go
    to `Scenario`.
    """
    windows = tuple(
        SimWindow(w.number, w.zone, frozenset(w.services), w.number not in closed)
        for w in hall.windows
    )
    skills = window_skills(hall.windows)
    day = Scenario(services=(), windows=windows, skills=skills, **options)
    share: dict[str, float] = {}
    for w in windows:
        if w.is_open:
            for code in w.services:
                share[code] = share.get(code, 0.0) + 1 / len(w.services)
    minutes = range(int(day.day_minutes))
    mean_profile = sum(profile_at(day.profile, m) for m in minutes) / len(minutes)
    services = tuple(
        SimService(
            code=s.code,
            zone_code=s.zone,
            mean_service_minutes=s.mean_service_minutes,
            rate_per_hour=utilisation * share.get(s.code, 0.0) * 60 / s.mean_service_minutes
            / mean_profile,
            morning_bias=biases.get(s.code, 0.0),
        )
        for s in hall.services
    )
    return replace(day, services=services)


def generate_tickets(scenario: Scenario, seed: int) -> list[SimTicket]:
    """One day's citizens: Poisson arrivals with time-varying rate (thinning), service times."""
    rng = random.Random(seed)
    peak = max(m for _, m in scenario.profile)
    drawn: list[tuple[float, str, float]] = []
    for service in scenario.services:
        day_factor = rng.lognormvariate(0.0, scenario.day_factor_sigma)
        bound = service.rate_per_hour / 60 * peak * (1 + BIAS_STRENGTH * abs(service.morning_bias))
        bound *= day_factor
        if bound <= 0:
            continue
        minute = 0.0
        while True:
            minute += rng.expovariate(bound)
            if minute >= scenario.day_minutes:
                break
            if rng.random() * bound <= scenario.rate(service, minute, day_factor):
                drawn.append((minute, service.code, _service_time(rng, scenario, service)))
    drawn.sort()
    return [SimTicket(i, code, at, minutes) for i, (at, code, minutes) in enumerate(drawn)]


def _service_time(rng: random.Random, scenario: Scenario, service: SimService) -> float:
    mean = service.mean_service_minutes
    if scenario.service_time == "exponential":
        return rng.expovariate(1 / mean)
    sigma2 = math.log(1 + scenario.service_cv**2)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


@dataclass
class _Desk:
    number: int
    zone_code: str
    services: frozenset[str]
    is_open: bool
    busy: bool = False
    leaving_for: int | None = None
    """The window this desk's clerk moves to once the current citizen is done."""
    arriving: bool = False
    """A clerk is on the way here."""


@dataclass
class _Hall:
    scenario: Scenario
    desks: dict[int, _Desk]
    queues: dict[str, deque[SimTicket]]
    events: list[tuple[float, int, str, object]] = field(default_factory=list)
    arrivals: dict[str, list[float]] = field(default_factory=dict)
    served: dict[str, deque[float]] = field(default_factory=dict)
    waits: dict[str, list[float]] = field(default_factory=dict)
    seq: int = 0

    def schedule(self, at: float, kind: str, payload: object) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, payload))

    def call_next(self, desk: _Desk, now: float) -> None:
        """The oldest waiting ticket of the desk's services, as ``queue.call_next``."""
        if not desk.is_open or desk.busy or desk.leaving_for is not None:
            return
        heads = [self.queues[c][0] for c in desk.services if self.queues.get(c)]
        if not heads:
            return
        ticket = min(heads, key=lambda t: (t.taken_at, t.id))
        self.queues[ticket.service_code].popleft()
        self.waits.setdefault(ticket.service_code, []).append(now - ticket.taken_at)
        desk.busy = True
        self.schedule(now + ticket.service_minutes, "done", (desk.number, ticket))

    def demand(self, now: float) -> dict[str, Demand]:
        result = {}
        for s in self.scenario.services:
            recent = self.served.get(s.code)
            mean = sum(recent) / len(recent) if recent else s.mean_service_minutes
            result[s.code] = Demand(
                service_code=s.code,
                waiting=len(self.queues[s.code]),
                rate_15=self.rate(s.code, now, 15),
                rate_60=self.rate(s.code, now, 60),
                mean_service_minutes=mean,
            )
        return result

    def rate(self, code: str, now: float, minutes: float) -> float:
        """Arrivals per minute over the last ``minutes`` (fewer just after opening)."""
        times = self.arrivals.get(code, [])
        span = max(min(minutes, now), 1.0)
        return (len(times) - bisect_left(times, now - minutes)) / span

    def in_transit(self) -> bool:
        return any(d.leaving_for is not None or d.arriving for d in self.desks.values())

    def slots(self) -> list[WindowSlot]:
        return [
            WindowSlot(d.number, d.zone_code, d.is_open, d.services) for d in self.desks.values()
        ]


def simulate(
    scenario: Scenario,
    tickets: Sequence[SimTicket],
    policy: str = "static",
    rules: Rules = DEFAULT_RULES,
    *,
    interval_minutes: float = 5.0,
) -> SimResult:
    """Run one day under ``static`` or ``workload``; waits of every ticket."""
    if policy not in ("static", "workload"):
        raise ValueError(f"unknown policy {policy!r}")
    hall = _Hall(
        scenario=scenario,
        desks={
            w.number: _Desk(w.number, w.zone_code, w.services, w.is_open)
            for w in scenario.windows
        },
        queues={s.code: deque() for s in scenario.services},
    )
    for ticket in tickets:
        hall.schedule(ticket.taken_at, "arrive", ticket)
    if policy == "workload":
        hall.schedule(0.0, "tick", None)
    start = dt.datetime(2000, 1, 1)
    last_change: dt.datetime | None = None
    spare = scenario.spare_clerks
    changes = 0
    while hall.events:
        now, _, kind, payload = heapq.heappop(hall.events)
        if kind == "arrive":
            assert isinstance(payload, SimTicket)
            hall.queues[payload.service_code].append(payload)
            hall.arrivals.setdefault(payload.service_code, []).append(now)
            for desk in hall.desks.values():
                if payload.service_code in desk.services and not desk.busy and desk.is_open:
                    hall.call_next(desk, now)
                    break
        elif kind == "done":
            number, ticket = cast(tuple[int, SimTicket], payload)
            desk = hall.desks[number]
            desk.busy = False
            hall.served.setdefault(ticket.service_code, deque(maxlen=20)).append(
                ticket.service_minutes
            )
            if desk.leaving_for is not None:
                desk.is_open = False
                hall.schedule(now + scenario.move_minutes, "clerk", desk.leaving_for)
                desk.leaving_for = None
            else:
                hall.call_next(desk, now)
        elif kind == "clerk":
            assert isinstance(payload, int)
            desk = hall.desks[payload]
            desk.is_open, desk.arriving = True, False
            hall.call_next(desk, now)
        elif kind == "tick":
            clock = start + dt.timedelta(minutes=now)
            # No change while a clerk is on the move: the plan waits for the last one.
            if not hall.in_transit() and may_apply_automatically(last_change, clock, rules):
                proposals = propose(
                    hall.demand(now), hall.slots(), scenario.skills, rules, spare_clerks=spare
                )
                for p in proposals:
                    desk = hall.desks[p.window]
                    services = frozenset(p.to_services)
                    if p.kind == "assign":
                        desk.services = services
                        hall.call_next(desk, now)
                        continue
                    desk.arriving = True
                    desk.services = services
                    if p.kind == "open":
                        spare -= 1
                        hall.schedule(now + scenario.move_minutes, "clerk", p.window)
                        continue
                    assert p.clerk_from_window is not None
                    source = hall.desks[p.clerk_from_window]
                    if source.busy:
                        source.leaving_for = p.window
                    else:
                        source.is_open = False
                        hall.schedule(now + scenario.move_minutes, "clerk", p.window)
                if proposals:
                    last_change = clock
                    changes += len(proposals)
            # After closing, tick while citizens are still being served.
            if now < scenario.day_minutes or hall.events:
                hall.schedule(now + interval_minutes, "tick", None)
    waits = [w for code in sorted(hall.waits) for w in hall.waits[code]]
    return SimResult(
        policy=policy,
        waits=waits,
        by_service=hall.waits,
        changes=changes,
        unserved=sum(len(q) for q in hall.queues.values()),
    )


def compare(
    scenario: Scenario,
    seed: int,
    rules: Rules = DEFAULT_RULES,
    *,
    interval_minutes: float = 5.0,
) -> dict[str, SimResult]:
    """Both policies on the same seeded day."""
    tickets = generate_tickets(scenario, seed)
    return {
        policy: simulate(scenario, tickets, policy, rules, interval_minutes=interval_minutes)
        for policy in ("static", "workload")
    }
