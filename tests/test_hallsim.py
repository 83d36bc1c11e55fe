"""The hall-day simulation: sound against queueing theory, and the workload policy beats static."""

from __future__ import annotations

import pytest

from hall_ops.config import HallConfig
from hall_ops.floor.simulation import (
    Scenario,
    SimService,
    SimWindow,
    busy_day,
    compare,
    generate_tickets,
    simulate,
)
from hall_ops.floor.workload import Rules, expected_wait


def test_flat_day_matches_erlang_c() -> None:
    """Constant Poisson arrivals, exponential service, three windows: the M/M/3 queue."""
    lam, mu, minutes = 0.21, 0.1, 200_000.0
    scenario = Scenario(
        services=(SimService("A", "z", 1 / mu, rate_per_hour=lam * 60),),
        windows=tuple(SimWindow(n, "z", frozenset({"A"})) for n in (1, 2, 3)),
        skills={n: frozenset({"A"}) for n in (1, 2, 3)},
        day_minutes=minutes,
        profile=((0.0, 1.0), (minutes, 1.0)),
        service_time="exponential",
        day_factor_sigma=0.0,
    )
    tickets = generate_tickets(scenario, seed=7)
    assert len(tickets) == pytest.approx(lam * minutes, rel=0.05)
    result = simulate(scenario, tickets, "static")
    assert len(result.waits) == len(tickets) and result.unserved == 0
    assert result.mean_wait == pytest.approx(expected_wait(3, lam, mu), rel=0.15)


def test_busy_day_has_peaks_and_is_reproducible(hall_config: HallConfig) -> None:
    scenario = busy_day(hall_config)
    tickets = generate_tickets(scenario, seed=3)
    assert tickets == generate_tickets(scenario, seed=3)
    assert tickets != generate_tickets(scenario, seed=4)
    morning_peak = sum(60 <= t.taken_at < 150 for t in tickets)   # 09:30–11:00
    lunch = sum(210 <= t.taken_at < 300 for t in tickets)          # 12:00–13:30
    assert morning_peak > 1.5 * lunch
    estate = [t.taken_at for t in tickets if t.service_code == "real_estate"]
    assert sum(m < 270 for m in estate) > sum(m >= 270 for m in estate)   # comes early
    assert all(t.service_minutes > 0 for t in tickets)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_workload_policy_beats_static_on_a_busy_day(hall_config: HallConfig, seed: int) -> None:
    results = compare(busy_day(hall_config), seed, Rules())
    static, workload = results["static"], results["workload"]
    assert len(static.waits) == len(workload.waits) > 900
    assert static.unserved == workload.unserved == 0
    assert static.changes == 0 and workload.changes > 0
    assert workload.mean_wait < static.mean_wait
    assert workload.p90_wait < static.p90_wait
