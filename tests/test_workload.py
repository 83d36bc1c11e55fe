"""Window workload assignment: Erlang C, demand from the tables, proposals, applying them."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import uuid
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import select

from hall_ops.db import Database
from hall_ops.errors import Conflict
from hall_ops.floor.workload import (
    Demand,
    Proposal,
    Rules,
    WindowSlot,
    apply_proposal,
    erlang_c,
    expected_wait,
    may_apply_automatically,
    measure_capacity,
    measure_demand,
    predicted_waiting,
    propose,
    wait_percentile,
)
from hall_ops.queue.models import Clerk, Service, Ticket, Window, WindowService
from zones.models import Zone

NOW = dt.datetime(2026, 11, 25, 2, 0, 0)
SKILLS = {1: {"A", "B"}, 2: {"A", "B"}, 3: {"A", "B"}, 4: {"A", "B"}, 9: {"C"}}
"""What each window of the test hall may serve: the services of its zone."""
TODAY = NOW.date()


def textbook_erlang_c(c: int, lam: Fraction, mu: Fraction) -> Fraction:
    """C(c, a) = a^c/c! · c/(c−a) / (Σ_{k<c} a^k/k! + a^c/c! · c/(c−a)), exactly."""
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


# ---------------------------------------------------------------- Erlang C


def test_erlang_c_two_servers_by_hand() -> None:
    # c=2, λ=1, μ=0.75: a=4/3; P0 = 1/(1 + 4/3 + (16/9)/2 · 3) = 1/5; C = 8/3 · 1/5.
    assert erlang_c(2, 1.0, 0.75) == pytest.approx(8 / 15, rel=1e-12)
    assert expected_wait(2, 1.0, 0.75) == pytest.approx((8 / 15) / (2 * 0.75 - 1), rel=1e-12)


def test_erlang_c_single_server_is_utilisation() -> None:
    assert erlang_c(1, 0.6, 1.0) == pytest.approx(0.6)
    assert expected_wait(1, 0.6, 1.0) == pytest.approx(0.6 / (1.0 - 0.6))


@pytest.mark.parametrize(
    ("c", "lam", "mu"),
    [
        (3, Fraction(2), Fraction(1)),
        (5, Fraction(4), Fraction(1)),
        (10, Fraction(7, 2), Fraction(1, 2)),
        (30, Fraction(25), Fraction(1)),
        (120, Fraction(114), Fraction(1)),
    ],
)
def test_erlang_c_matches_exact_formula(c: int, lam: Fraction, mu: Fraction) -> None:
    exact = float(textbook_erlang_c(c, lam, mu))
    assert erlang_c(c, float(lam), float(mu)) == pytest.approx(exact, rel=1e-9)
    wait = exact / float(c * mu - lam)
    assert expected_wait(c, float(lam), float(mu)) == pytest.approx(wait, rel=1e-9)


def test_unstable_system_waits_forever() -> None:
    assert erlang_c(2, 1.5, 0.75) == 1.0
    assert expected_wait(2, 1.5, 0.75) == math.inf
    assert expected_wait(2, 2.0, 0.75) == math.inf
    assert expected_wait(0, 0.1, 1.0) == math.inf
    assert wait_percentile(2, 1.5, 0.75, 0.9) == math.inf
    assert expected_wait(3, 0.0, 1.0) == 0.0


def test_wait_percentile_inverts_the_tail() -> None:
    t90 = wait_percentile(2, 1.0, 0.75, 0.9)
    # P(W > t) = C·exp(−(cμ − λ)·t)
    assert (8 / 15) * math.exp(-(2 * 0.75 - 1.0) * t90) == pytest.approx(0.1)
    assert t90 == pytest.approx(math.log((8 / 15) / 0.1) / 0.5)
    # 8/15 wait at all, so 30 % of arrivals waiting nothing means the 30th percentile is zero.
    assert wait_percentile(2, 1.0, 0.75, 0.3) == 0.0


def test_predicted_waiting_without_backlog_is_erlang_queue_length() -> None:
    # Two windows of μ = 0.75 → capacity 1.5 people/min; L_q = λ·W_q.
    assert predicted_waiting(2, 1.0, 1.5, 0, 30) == pytest.approx(1.0 * 16 / 15)
    # Near ρ = 1 the steady state (L_q = ρ²/(1−ρ) ≈ 98) cannot build up within 30 minutes.
    assert predicted_waiting(1, 0.99, 1.0, 0, 30) == pytest.approx(math.sqrt(0.99 * 30))


def test_predicted_waiting_drains_a_backlog() -> None:
    # 10 waiting, net drain 0.5/min: empty after 20 min; area 10·20/2 over 30 min.
    assert predicted_waiting(2, 1.0, 1.5, 10, 30) == pytest.approx(100 / 30 + 16 / 15)


def test_predicted_waiting_counts_an_overloaded_queue_until_served() -> None:
    # λ=1 > capacity 0.5: 15 people in line after 30 min, served later at 0.5/min.
    area = 15 / 2 * 30 + 15 * 15 / (2 * 0.5)
    assert predicted_waiting(1, 1.0, 0.5, 0, 30) == pytest.approx(area / 30 + math.sqrt(30))
    assert predicted_waiting(0, 1.0, 0.0, 0, 30) == math.inf
    assert predicted_waiting(0, 0.0, 0.0, 0, 30) == 0.0


# ---------------------------------------------------------------- proposals


def demand(code: str, waiting: int, rate: float, minutes: float) -> Demand:
    return Demand(
        code, waiting, rate, rate, minutes, name_zh=f"{code}业务", name_en=f"{code} service"
    )


def slots(*spec: tuple[int, str, bool, set[str]]) -> list[WindowSlot]:
    return [WindowSlot(n, zone, is_open, frozenset(s)) for n, zone, is_open, s in spec]


def after_all(
    windows: Sequence[WindowSlot], proposals: Sequence[Proposal]
) -> dict[int, frozenset[str]]:
    """Open windows and their services once every proposal is applied."""
    result = {w.number: w.services for w in windows if w.is_open}
    for p in proposals:
        if p.clerk_from_window is not None:
            del result[p.clerk_from_window]
        result[p.window] = frozenset(p.to_services)
    return result


def count(assignment: dict[int, frozenset[str]], code: str) -> int:
    return sum(code in s for s in assignment.values())


OVERLOAD = {
    "A": demand("A", 30, 0.5, 10.0),   # 5 erlangs of work for one window, 30 in line
    "B": demand("B", 1, 0.05, 8.0),    # 0.4 erlangs for three windows
}
FOUR = slots(
    (1, "z", True, {"A"}), (2, "z", True, {"B"}), (3, "z", True, {"B"}), (4, "z", True, {"B"})
)
ZONE_SKILLS = {n: frozenset({"A", "B"}) for n in (1, 2, 3, 4, 5)}


def test_proposal_moves_capacity_to_the_overloaded_service() -> None:
    proposals = propose(OVERLOAD, FOUR, ZONE_SKILLS, Rules())
    assert proposals
    first = proposals[0]
    assert first.kind == "assign"
    assert "A" in first.to_services and "A" not in first.from_services
    assert first.after["A"] < first.before["A"]
    assert first.gain > 0
    assert f"{first.window}号窗口" in first.reason_zh and "A业务" in first.reason_zh
    assert f"Window {first.window}" in first.reason_en and "A service" in first.reason_en
    assert count(after_all(FOUR, proposals), "A") > 1
    # Proposals chain: each one starts where the previous one ended.
    for earlier, later in itertools.pairwise(proposals):
        assert later.before["A"] == pytest.approx(earlier.after["A"])
    assert len(proposals) <= Rules().max_changes


def test_balanced_hall_gets_no_proposal() -> None:
    calm = {"A": demand("A", 0, 0.05, 10.0), "B": demand("B", 0, 0.05, 8.0)}
    two = slots((1, "z", True, {"A"}), (2, "z", True, {"B"}))
    assert propose(calm, two, ZONE_SKILLS, Rules()) == []


def test_minimum_windows_per_service_is_kept() -> None:
    one_each = Rules(max_services_per_window=1)
    # Left alone, the planner swaps B's windows over to A down to the default minimum of one…
    free = after_all(FOUR, propose(OVERLOAD, FOUR, ZONE_SKILLS, one_each))
    assert count(free, "B") == 1 and count(free, "A") == 3
    # …but not below a service's own minimum.
    two = Rules(max_services_per_window=1, min_windows={"B": 2})
    kept = propose(OVERLOAD, FOUR, ZONE_SKILLS, two)
    assert len(kept) == 1
    assert count(after_all(FOUR, kept), "B") == 2
    three = Rules(max_services_per_window=1, min_windows={"B": 3})
    assert propose(OVERLOAD, FOUR, ZONE_SKILLS, three) == []


def test_max_services_per_window_and_skills_are_respected() -> None:
    skills = {**ZONE_SKILLS, 3: frozenset({"B"})}
    proposals = propose(OVERLOAD, FOUR, skills, Rules(max_services_per_window=1))
    assert proposals
    assert all(len(p.to_services) == 1 for p in proposals)
    assert all(not (p.window == 3 and "A" in p.to_services) for p in proposals)


def test_a_service_nobody_serves_is_taken_up_first() -> None:
    needs = {**OVERLOAD, "C": demand("C", 2, 0.02, 5.0)}
    skills = {n: frozenset({"A", "B", "C"}) for n in (1, 2, 3, 4)}
    first = propose(needs, FOUR, skills, Rules())[0]
    assert "C" in first.to_services
    assert first.before["C"] == math.inf and first.after["C"] < math.inf


def test_clerk_moves_from_a_quiet_zone_to_a_closed_window() -> None:
    needs = {"A": demand("A", 30, 0.5, 10.0), "C": demand("C", 0, 0.0, 5.0)}
    windows = slots((1, "z", True, {"A"}), (5, "z", False, {"B"}), (9, "y", True, {"C"}))
    skills = {1: frozenset({"A"}), 5: frozenset({"A", "B"}), 9: frozenset({"C"})}
    free_c = Rules(min_windows={"C": 0})
    [move] = [p for p in propose(needs, windows, skills, free_c) if p.kind == "move"]
    assert (move.window, move.clerk_from_window, move.to_services) == (5, 9, ("A",))
    assert move.from_services == ("B",)
    assert move.after["A"] < move.before["A"]
    assert "9号窗口工作人员移至5号窗口" in move.reason_zh
    # C must keep a window by default, and moves can be switched off.
    assert propose(needs, windows, skills, Rules()) == []
    assert propose(needs, windows, skills, Rules(min_windows={"C": 0}, allow_moves=False)) == []
    # With a clerk free the closed window simply opens.
    [opened] = propose(needs, windows, skills, Rules(), spare_clerks=1)
    assert (opened.kind, opened.window, opened.clerk_from_window) == ("open", 5, None)


def test_auto_mode_interval() -> None:
    rules = Rules(min_interval_minutes=15)
    assert may_apply_automatically(None, NOW, rules)
    assert not may_apply_automatically(NOW - dt.timedelta(minutes=14, seconds=59), NOW, rules)
    assert may_apply_automatically(NOW - dt.timedelta(minutes=15), NOW, rules)


# ---------------------------------------------------------------- the database


@pytest.fixture
def hall_db(tmp_path: Path) -> Iterator[Database]:
    """Zone z: services A (10 min) and B (6 min); windows 1 (A), 2 (B), 3 (B) staffed, 4 (B) closed.
    Zone y: service C at window 9, staffed."""
    db = Database(f"sqlite:///{tmp_path / 'hall.db'}")
    db.create_all()
    with db.write() as session:
        session.add_all([Zone(code="z", name_zh="前台受理区", name_en="Front intake"),
                         Zone(code="y", name_zh="商务区", name_en="Business")])
        session.flush()
        session.add_all([
            Service(code="A", letter="A", name_zh="不动产登记", name_en="Real estate",
                    zone_code="z", mean_service_minutes=10.0),
            Service(code="B", letter="B", name_zh="企业登记", name_en="Enterprise", zone_code="z",
                    mean_service_minutes=6.0),
            Service(code="C", letter="C", name_zh="复印邮寄", name_en="Copying", zone_code="y",
                    mean_service_minutes=5.0),
        ])
        session.add_all([Clerk(id=f"c{n}", name=f"clerk {n}") for n in (1, 2, 3, 9)])
        session.flush()
        for number, zone, services, clerk in [
            (1, "z", ["A"], "c1"), (2, "z", ["B"], "c2"), (3, "z", ["B"], "c3"),
            (4, "z", ["B"], None), (9, "y", ["C"], "c9"),
        ]:
            window = Window(number=number, zone_code=zone, state="idle" if clerk else "closed",
                            clerk_id=clerk, opened_at=NOW if clerk else None)
            window.assignments = [WindowService(service_code=code) for code in services]
            session.add(window)
    yield db
    db.dispose()


def add_ticket(session, service: str, taken_minutes_ago: float, status: str = "waiting",
               served_minutes: float | None = None, day: dt.date = TODAY) -> None:
    taken = NOW - dt.timedelta(minutes=taken_minutes_ago)
    seq = len(session.scalars(select(Ticket.id)).all()) + 1
    ticket = Ticket(number=f"{service}{seq:03d}", day=day, seq=seq, origin_service_code=service,
                    service_code=service, status=status, taken_at=taken, rank_at=taken,
                    status_token=uuid.uuid4().hex)
    if served_minutes is not None:
        ticket.called_at = ticket.started_at = taken + dt.timedelta(minutes=2)
        ticket.finished_at = ticket.started_at + dt.timedelta(minutes=served_minutes)
    session.add(ticket)
    session.flush()


def test_measure_demand_reads_the_tables(hall_db: Database) -> None:
    with hall_db.write() as session:
        for minutes_ago in (1, 3, 5, 8, 11, 14):
            add_ticket(session, "A", minutes_ago)
        for minutes_ago, served in ((30, 4.0), (40, 6.0), (50, 8.0)):
            add_ticket(session, "A", minutes_ago, "done", served)
        add_ticket(session, "A", 2, "cancelled")
        add_ticket(session, "B", 70, "done", 3.0)
        add_ticket(session, "B", 60 * 24, day=NOW.date() - dt.timedelta(days=1))
    with hall_db.read() as session:
        demand = measure_demand(session, NOW, day=NOW.date(), occupancy_trend={"z": 0.2})
        early = measure_demand(session, NOW, opened_at=NOW - dt.timedelta(minutes=30))
    a, b, c = demand["A"], demand["B"], demand["C"]
    assert (a.waiting, b.waiting, c.waiting) == (6, 0, 0)
    assert a.rate_15 == pytest.approx(6 / 15)
    assert a.rate_60 == pytest.approx(9 / 60)
    assert a.mean_service_minutes == pytest.approx(6.0)
    assert b.mean_service_minutes == pytest.approx(3.0)       # older than an hour still counts
    assert b.rate_60 == 0.0
    assert c.mean_service_minutes == 5.0        # nothing finished: the configured guess
    assert (a.occupancy_trend, c.occupancy_trend) == (0.2, 0.0)
    assert a.forecast_rate == pytest.approx((0.5 * 6 / 15 + 0.5 * 9 / 60) * 1.2)
    assert (a.name_zh, a.name_en) == ("不动产登记", "Real estate")
    # Without a day, yesterday's leftover ticket counts; the hall opened 30 min ago.
    assert early["B"].waiting == 1
    assert early["A"].rate_60 == pytest.approx(6 / 30)


def test_capacity_and_default_skills(hall_db: Database) -> None:
    with hall_db.read() as session:
        capacity = measure_capacity(session, SKILLS)
    assert [w.number for w in capacity.open_windows] == [1, 2, 3, 9]
    assert [w.number for w in capacity.closed_windows] == [4]
    assert capacity.skills[1] == frozenset({"A", "B"})
    assert capacity.windows[0].services == frozenset({"A"})


def test_apply_proposal_rewrites_the_assignment(hall_db: Database) -> None:
    with hall_db.write() as session:
        for minutes_ago in range(40):
            add_ticket(session, "A", minutes_ago / 2)
    with hall_db.read() as session:
        capacity = measure_capacity(session, SKILLS)
        demand = measure_demand(session, NOW, day=NOW.date())
    proposals = propose(demand, capacity.windows, capacity.skills, Rules())
    first = proposals[0]
    assert first.kind == "assign" and first.window in (2, 3) and "A" in first.to_services

    with hall_db.write() as session:
        audit = apply_proposal(session, first, "manager:li", NOW)
    assert audit["actor"] == "manager:li"
    assert audit["window"] == first.window and audit["to_services"] == list(first.to_services)
    assert audit["open_requested"] is False
    assert audit["predicted_wait_after"]["A"] < audit["predicted_wait_before"]["A"]
    with hall_db.read() as session:
        rows = session.scalars(
            select(WindowService.service_code).where(WindowService.window_number == first.window)
        ).all()
        assert tuple(sorted(rows)) == first.to_services
        assert session.get(Window, 1).service_codes == ["A"]

    # The same proposal again is stale: the window no longer serves what it assumed.
    with pytest.raises(Conflict) as stale, hall_db.write() as session:
        apply_proposal(session, first, "manager:li", NOW)
    assert stale.value.code == "stale_proposal"


def test_apply_open_proposal_only_prepares_the_window(hall_db: Database) -> None:
    with hall_db.write() as session:
        for minutes_ago in range(60):
            add_ticket(session, "A", minutes_ago / 3)
    with hall_db.read() as session:
        capacity = measure_capacity(session, SKILLS)
        demand = measure_demand(session, NOW, day=NOW.date())
    no_reassign = {n: frozenset(s) for n, s in capacity.skills.items()}
    no_reassign.update({2: frozenset({"B"}), 3: frozenset({"B"})})
    [opened] = [p for p in propose(demand, capacity.windows, no_reassign, Rules(), spare_clerks=1)
                if p.kind == "open"]
    assert (opened.window, opened.from_services, opened.to_services) == (4, ("B",), ("A",))
    with hall_db.write() as session:
        audit = apply_proposal(session, opened, "auto", NOW)
    assert audit["open_requested"] is True and audit["kind"] == "open"
    with hall_db.read() as session:
        window = session.get(Window, 4)
        assert window.state == "closed" and window.clerk_id is None   # a clerk still has to log in
        assert window.service_codes == ["A"]
