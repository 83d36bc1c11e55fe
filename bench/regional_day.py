"""A regional day replayed through the real domain code: many halls, each its own database.

Each hall is the hall of ``config.toml`` grown to its day's size: its windows (and a
clerk at each) copied as often as the ticket target needs, so a hall of 5,000 tickets has
about four times the demo's windows and the same load per window. The day's citizens come
from the busy-day simulation (``hall_ops.floor.simulation``: seeded Poisson arrivals over
the hall's profile, per-service morning/afternoon lean and day factor, lognormal service
times; one seed per hall), and the replay drives the hall the way the simulation's static
policy does — a citizen arrives and an idle window serving that service calls; a window
that finishes calls again — but every step is the production domain function in its own
write transaction on the hall's database: ``take_ticket`` (opening hours enforced),
``call_next`` (which ticket is called is the database's rank-time rule, not the
simulation's), ``start_service``, ``finish``, and for a citizen who does not come
(``--no-show``) ``recall`` twice and ``mark_no_show``, as the hall's rule
(``[queue] no_show_after_recalls``) demands. ``--elderly`` of the citizens take an elderly
ticket (the head start of ``[queue] priority_head_start_minutes``). The simulated clock
runs through the day; only the database work takes wall time.

Halls run concurrently as **processes** (one per hall by default, ``--procs`` fewer): a
hall's day is sequential, as its clerks are, and separate interpreters keep the GIL out
of the comparison. The floor figures per hall come from the database afterwards through
``hall_ops.reports.tickets.ticket_report`` (the managers' report): mean/p90 wait
(take → call), served, no-shows; the longest wait and the peak write rate (tickets and
ticket events per simulated minute, the load a hall puts on the database at its busiest)
from the same rows.

    .venv/bin/python bench/regional_day.py                       # quick: 3 halls × 400 tickets
    .venv/bin/python bench/regional_day.py --halls 20 --tickets 5000 [--postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from hall_ops import queue  # noqa: E402
from hall_ops.clock import from_local  # noqa: E402
from hall_ops.config import ClerkConfig, HallConfig, WindowConfig, load_config  # noqa: E402
from hall_ops.db import Database  # noqa: E402
from hall_ops.floor.simulation import HALL_PROFILE, SimTicket, busy_day, generate_tickets  # noqa: E402
from hall_ops.hall import load_hall  # noqa: E402
from hall_ops.queue.models import Ticket, TicketEvent  # noqa: E402
from hall_ops.reports.tickets import ticket_report  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEMO_DAY_TICKETS = 1150
"""Tickets on a busy day of the demo hall as configured (bench/README.md, assignment_sim)."""
DAY = dt.date(2026, 12, 2)
"""A Wednesday with no calendar override: the hall opens 08:30–17:30."""
WALK_MINUTES = 0.5
"""From the call to the citizen sitting down at the window (``start_service``)."""
RECALL_MINUTES = 1.0
"""Between a call and its recalls, for a citizen who does not come."""


def grown_hall(hall: HallConfig, copies: int) -> HallConfig:
    """The hall with its windows copied ``copies`` times (window n of copy k is
    100·k + n) and one clerk per window."""
    windows = tuple(
        replace(w, number=100 * k + w.number) for k in range(copies) for w in hall.windows
    )
    clerks = tuple(ClerkConfig(id=f"r{w.number:04d}", name=f"clerk {w.number}") for w in windows)
    return replace(hall, windows=windows, clerks=clerks)


def closed_windows(windows: tuple[WindowConfig, ...]) -> list[int]:
    """The busy day's unstaffed windows (13 and 20 of the demo hall), in every copy."""
    return [w.number for w in windows if w.number % 100 in (13, 20)]


def day_tickets(hall: HallConfig, target: int, seed: int) -> tuple[HallConfig, list[SimTicket]]:
    """The grown hall and its seeded day of about ``target`` citizens (a day shorter
    than 08:30–17:30 when even the demo hall's windows would be too many)."""
    copies = max(1, round(target / DEMO_DAY_TICKETS))
    grown = grown_hall(hall, copies)
    # A quick run keeps the load per window and shortens the day instead.
    part = min(1.0, target / (copies * DEMO_DAY_TICKETS))
    scenario = busy_day(grown, closed=closed_windows(grown.windows),
                        day_minutes=540 * part,
                        profile=tuple((m * part, f) for m, f in HALL_PROFILE))
    # The rest of the way to the target by the arrival rates (5,000 on 4 copies: × 1.09);
    # one factor for every seed, so the halls differ only by their day.
    scale = target / (copies * DEMO_DAY_TICKETS * part)
    scaled = replace(scenario, services=tuple(
        replace(s, rate_per_hour=s.rate_per_hour * scale) for s in scenario.services))
    return grown, generate_tickets(scaled, seed)


@dataclass
class HallResult:
    index: int
    tickets: int
    windows: int
    transactions: int
    wall_s: float
    cpu_s: float
    """The hall process's own CPU time for its day (the database server's not included)."""
    served: int
    no_shows: int
    wait_mean: float
    wait_p90: float
    wait_max: float
    peak_rows_per_min: int
    """Tickets + ticket events written in the busiest simulated minute."""
    peak_rows_per_min_15: float
    """The same, averaged over the busiest 15 simulated minutes."""


def run_hall(index: int, url: str, schema: str | None, target: int, seed: int, no_show: float,
             elderly: float) -> HallResult:
    """One hall's day through the domain functions; figures read back from its database."""
    base = load_config(ROOT / "config.toml")
    hall, citizens = day_tickets(base, target, seed)
    rng = random.Random(seed * 7919 + 1)
    absent = {c.id for c in citizens if rng.random() < no_show}
    priority = {c.id: "elderly" for c in citizens if rng.random() < elderly}
    opening = from_local(dt.datetime.combine(DAY, dt.time(8, 30)), hall.timezone)
    db = Database(url, schema=schema)
    db.create_all()
    with db.write() as s:
        load_hall(s, hall)
    closed = set(closed_windows(hall.windows))
    open_desks = {w.number: set(w.services) for w in hall.windows if w.number not in closed}
    clerk = {w.number: f"r{w.number:04d}" for w in hall.windows}
    idle = set(open_desks)
    by_ticket: dict[int, SimTicket] = {}
    events: list[tuple[float, int, str, int]] = []
    seq = 0
    transactions = 0

    def at(minute: float) -> dt.datetime:
        return opening + dt.timedelta(minutes=minute)

    def schedule(minute: float, kind: str, payload: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (minute, seq, kind, payload))

    def call(window: int, minute: float) -> None:
        nonlocal transactions
        with db.write(origin=f"window {window}") as s:
            ticket, _ = queue.call_next(s, hall, window, clerk[window], at(minute))
        transactions += 1
        if ticket is None:
            idle.add(window)
            return
        idle.discard(window)
        citizen = by_ticket[ticket.id]
        if citizen.id in absent:
            schedule(minute + RECALL_MINUTES, "recall", window)
        else:
            schedule(minute + WALK_MINUTES, "start", window)

    started, cpu = time.perf_counter(), time.process_time()
    for number in open_desks:
        with db.write(origin=f"window {number}") as s:
            queue.open_window(s, number, clerk[number], at(0))
        transactions += 1
    for citizen in citizens:
        schedule(citizen.taken_at, "arrive", citizen.id)
    citizen_of = {c.id: c for c in citizens}
    recalls: Counter[int] = Counter()
    current: dict[int, int] = {}
    while events:
        minute, _, kind, payload = heapq.heappop(events)
        now = at(minute)
        if kind == "arrive":
            citizen = citizen_of[payload]
            with db.write(origin="kiosk") as s:
                ticket = queue.take_ticket(s, hall, citizen.service_code, now,
                                           priority=priority.get(citizen.id, "normal"))
                by_ticket[ticket.id] = citizen
            transactions += 1
            for window in sorted(idle):
                if citizen.service_code in open_desks[window]:
                    call(window, minute)
                    break
        elif kind == "recall":
            window = payload
            with db.write(origin=f"window {window}") as s:
                queue.recall(s, window, clerk[window], now)
                recalls[window] += 1
                if recalls[window] >= hall.queue.no_show_after_recalls:
                    recalls[window] = 0
                    schedule(minute + RECALL_MINUTES, "no_show", window)
                else:
                    schedule(minute + RECALL_MINUTES, "recall", window)
            transactions += 1
        elif kind == "no_show":
            with db.write(origin=f"window {payload}") as s:
                queue.mark_no_show(s, hall, payload, clerk[payload], now)
            transactions += 1
            call(payload, minute)
        elif kind == "start":
            with db.write(origin=f"window {payload}") as s:
                ticket = queue.start_service(s, payload, clerk[payload], now)
                current[payload] = ticket.id
            transactions += 1
            schedule(minute + by_ticket[current[payload]].service_minutes, "finish", payload)
        elif kind == "finish":
            with db.write(origin=f"window {payload}") as s:
                queue.finish(s, payload, clerk[payload], now)
            transactions += 1
            call(payload, minute)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu

    with db.read() as s:
        (row,) = ticket_report(s, hall, DAY, DAY, "day")
        waits = [(c - t).total_seconds() / 60 for t, c in s.execute(
            select(Ticket.taken_at, Ticket.called_at)) if c is not None]
        waiting = s.scalar(select(func.count()).select_from(Ticket)
                           .where(Ticket.status.in_(("waiting", "called", "serving"))))
        stamps = list(s.scalars(select(TicketEvent.at)))
    db.dispose()
    if waiting or row.tickets != len(citizens):
        raise RuntimeError(f"hall {index}: {row.tickets} tickets of {len(citizens)}, "
                           f"{waiting} not finished")
    per_minute = Counter(int((t - opening).total_seconds() // 60) for t in stamps)
    per_minute.update(int(c.taken_at) for c in citizens)  # the ticket rows themselves
    last = max(per_minute) + 1
    counts = [per_minute.get(m, 0) for m in range(last)]
    busiest_15 = max(sum(counts[m:m + 15]) for m in range(max(1, last - 14))) / 15
    return HallResult(
        index=index, tickets=row.tickets, windows=len(open_desks), transactions=transactions,
        wall_s=wall, cpu_s=cpu, served=row.served, no_shows=row.no_shows,
        wait_mean=row.wait_mean_minutes or 0.0, wait_p90=row.wait_p90_minutes or 0.0,
        wait_max=max(waits), peak_rows_per_min=max(counts), peak_rows_per_min_15=busiest_15,
    )


@contextmanager
def hall_databases(halls: int, postgres: bool) -> Iterator[list[tuple[str, str | None]]]:
    """One database per hall, as a deployment has them: SQLite files in a temporary
    directory, or the schemas ``hall_<nn>`` of one fresh PostgreSQL database (dropped
    afterwards)."""
    if not postgres:
        with tempfile.TemporaryDirectory(prefix="hall-region-") as tmp:
            yield [(f"sqlite:///{Path(tmp) / f'hall{i:02d}.db'}", None) for i in range(halls)]
        return
    name = f"hall_day_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        yield [(url, f"hall_{i:02d}") for i in range(halls)]
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--halls", type=int, default=3)
    parser.add_argument("--tickets", type=int, default=400, help="tickets per hall (about)")
    parser.add_argument("--procs", type=int, default=0,
                        help="processes running halls at once (default: one per hall)")
    parser.add_argument("--postgres", action="store_true",
                        help="a PostgreSQL schema per hall instead of a SQLite file")
    parser.add_argument("--no-show", type=float, default=0.04,
                        help="share of citizens who do not come when called")
    parser.add_argument("--elderly", type=float, default=0.05,
                        help="share of citizens taking an elderly ticket")
    parser.add_argument("--seed", type=int, default=0, help="hall i uses seed + i")
    parser.add_argument("--per-hall", action="store_true", default=None,
                        help="print every hall (default when at most 20 halls)")
    args = parser.parse_args()

    procs = args.procs or args.halls
    with hall_databases(args.halls, args.postgres) as databases, \
            ProcessPoolExecutor(procs) as pool:
        load_before = os.getloadavg()
        started = time.perf_counter()
        futures = [pool.submit(run_hall, i, url, schema, args.tickets, args.seed + i,
                               args.no_show, args.elderly)
                   for i, (url, schema) in enumerate(databases)]
        results = [f.result() for f in futures]
        wall = time.perf_counter() - started
        load_after = os.getloadavg()

    database = ("PostgreSQL (a schema per hall, one database)" if args.postgres
                else "SQLite (a file per hall)")
    tickets = sum(r.tickets for r in results)
    transactions = sum(r.transactions for r in results)
    print(f"Regional day: {args.halls} halls × ~{args.tickets} tickets, {database}, "
          f"{procs} processes on {os.cpu_count()} cores; load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after")
    if args.per_hall or (args.per_hall is None and args.halls <= 20):
        print(f"\n{'hall':>4} {'windows':>7} {'tickets':>7} {'served':>6} {'no-show':>7} "
              f"{'mean wait':>9} {'p90 wait':>8} {'longest':>8} {'wall s':>7} {'cpu s':>6} "
              f"{'peak rows/min':>13} {'15-min peak':>11}")
        for r in results:
            print(f"{r.index:>4} {r.windows:>7} {r.tickets:>7} {r.served:>6} {r.no_shows:>7} "
                  f"{r.wait_mean:>8.1f}m {r.wait_p90:>7.1f}m {r.wait_max:>7.1f}m "
                  f"{r.wall_s:>7.1f} {r.cpu_s:>6.1f} {r.peak_rows_per_min:>13} "
                  f"{r.peak_rows_per_min_15:>11.1f}")

    def med(values: list[float]) -> float:
        return statistics.median(values)

    print(f"\nwall time {wall:.1f} s; {tickets} tickets, {transactions} write transactions: "
          f"{tickets / wall:.0f} tickets/s, {transactions / wall:.0f} transactions/s overall")
    print(f"per hall (median of {len(results)}): mean wait "
          f"{med([r.wait_mean for r in results]):.1f} min, p90 "
          f"{med([r.wait_p90 for r in results]):.1f} min, longest "
          f"{med([r.wait_max for r in results]):.1f} min (worst hall "
          f"{max(r.wait_max for r in results):.1f}); served "
          f"{med([r.served for r in results]):.0f}, "
          f"no-shows {med([r.no_shows for r in results]):.0f}")
    cpu = sum(r.cpu_s for r in results)
    print(f"hall processes' CPU: {cpu:.0f} s in all, {1000 * cpu / tickets:.1f} ms per ticket, "
          f"{1000 * cpu / transactions:.2f} ms per transaction (the load-independent figure: "
          f"one core replays {tickets / cpu:.0f} tickets/s)")
    peak = med([r.peak_rows_per_min for r in results])
    peak15 = med([r.peak_rows_per_min_15 for r in results])
    print(f"database rows per hall at peak (tickets + ticket events, simulated time): "
          f"{peak:.0f}/min in the busiest minute ({peak / 60:.2f}/s), {peak15:.1f}/min "
          f"over the busiest 15 minutes; per ticket {transactions / tickets:.2f} transactions")


if __name__ == "__main__":
    main()
