"""Static window assignment vs the workload policy, on simulated busy days of our hall.

Each seed is one day of the hall in config.toml (``hall_ops.floor.simulation.busy_day``):
the same citizens, arrival times and service times are replayed under both
policies. Figures are the median over seeds; the ratio is workload / static.

    .venv/bin/python bench/assignment_sim.py                  # 10 seeds
    .venv/bin/python bench/assignment_sim.py --seeds 30 --utilisation 0.9 --per-seed
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hall_ops.config import load_config  # noqa: E402
from hall_ops.floor.simulation import busy_day, compare  # noqa: E402
from hall_ops.floor.workload import Rules  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--utilisation", type=float, default=0.8,
                        help="load the static plan was made for (default 0.8)")
    parser.add_argument("--service-time", choices=["lognormal", "exponential"], default="lognormal")
    parser.add_argument("--interval", type=float, default=5.0,
                        help="minutes between planner runs (changes still at most every "
                             "Rules.min_interval_minutes)")
    parser.add_argument("--closed", type=int, nargs="*", default=[13, 20],
                        help="windows without a clerk in the morning")
    parser.add_argument("--per-seed", action="store_true", help="print every day too")
    args = parser.parse_args()

    hall = load_config(ROOT / "config.toml")
    scenario = busy_day(hall, closed=args.closed, utilisation=args.utilisation,
                        service_time=args.service_time)
    rules = Rules()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    days = []
    started = time.perf_counter()
    for seed in seeds:
        results = compare(scenario, seed, rules, interval_minutes=args.interval)
        days.append(results)
        if args.per_seed:
            s, w = results["static"], results["workload"]
            print(f"seed {seed:3d}: {len(s.waits):5d} tickets  static {s.mean_wait:6.1f} / "
                  f"{s.p90_wait:6.1f}   workload {w.mean_wait:6.1f} / {w.p90_wait:6.1f}   "
                  f"changes {w.changes}")
    elapsed = time.perf_counter() - started

    def median(policy: str, figure: str) -> float:
        return statistics.median(getattr(day[policy], figure) for day in days)

    tickets = statistics.median(len(day["static"].waits) for day in days)
    closed = ", ".join(map(str, args.closed)) or "none"
    print(f"\nBusy day, hall of config.toml: {len(scenario.windows)} windows (closed: {closed}), "
          f"static plan at utilisation {args.utilisation:.2f}, {args.service_time} service times")
    print(f"{args.seeds} seeded days (median {tickets:.0f} tickets/day); planner every "
          f"{args.interval:g} min, changes at most every {rules.min_interval_minutes:g} min; "
          f"{elapsed:.1f} s")
    print(f"\n{'policy':<10} {'mean wait':>10} {'p90 wait':>10} {'changes/day':>12}")
    for policy in ("static", "workload"):
        changes = statistics.median(day[policy].changes for day in days)
        mean, p90 = median(policy, "mean_wait"), median(policy, "p90_wait")
        print(f"{policy:<10} {mean:>9.1f}m {p90:>9.1f}m {changes:>12g}")
    mean_ratio = median("workload", "mean_wait") / median("static", "mean_wait")
    p90_ratio = median("workload", "p90_wait") / median("static", "p90_wait")
    print(f"{'ratio':<10} {mean_ratio:>10.2f} {p90_ratio:>10.2f}")
    both = sum(
        day["workload"].mean_wait < day["static"].mean_wait
        and day["workload"].p90_wait < day["static"].p90_wait
        for day in days
    )
    print(f"\nworkload lower on both mean and p90: {both}/{len(days)} days")


if __name__ == "__main__":
    main()
