"""How long the regional overview (``hall_ops/region/overview.py``) takes for 20 and for 100
halls, each its own SQLite file on disk.

One hall is filled as a busy city centre at 10:00 (``--days`` of history at ``--per-day``
visits, today's visits so far with ``--waiting`` waiting and 20 windows open, 150 cases a
day of two items each — about 1,500 undecided, with their supervision cards —, ratings,
three counting cameras sampled every 30 s for a week), then copied to every hall: the read
per hall is what is timed, not the writes. Each run builds the overview over 20 halls and
over 100 (alternating, ``--repeat`` times); the first run after opening the databases is
shown apart (cold). ``--parts`` also times each read of one hall, and the deadline watch
(every open item's clock now) the overview does not use, against the cards it reads.

    .venv/bin/python bench/regional_overview.py [--halls 20 100] [--repeat 5] [--parts]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, update  # noqa: E402

from hall_ops import privacy, queue  # noqa: E402
from hall_ops.cases.catalogue import load_catalogue  # noqa: E402
from hall_ops.cases.intake import OPEN_STATUSES  # noqa: E402
from hall_ops.cases.models import Case, CaseItem, ServiceItem  # noqa: E402
from hall_ops.cases.time_limits import deadline_watch  # noqa: E402
from hall_ops.clock import hall_day  # noqa: E402
from hall_ops.config import HallConfig  # noqa: E402
from hall_ops.db import Database  # noqa: E402
from hall_ops.evaluation import figures  # noqa: E402
from hall_ops.evaluation.models import Rating  # noqa: E402
from hall_ops.evaluation.ratings import EvaluationRules  # noqa: E402
from hall_ops.queue.models import Ticket, Window  # noqa: E402
from hall_ops.region import overview  # noqa: E402
from hall_ops.region.directory import HallRef  # noqa: E402
from sensors.models import Camera, OccupancySample  # noqa: E402
from sensors.poller import zone_occupancy  # noqa: E402
from tests.support.region import StaticDirectory, demo_hall_as, hall_database  # noqa: E402
from zones.occupancy import waiting_per_zone  # noqa: E402

NOW = dt.datetime(2026, 11, 25, 2, 0)  # Wednesday, 10:00 in Shanghai
SERVICES = ("enterprise", "real_estate", "investment", "social_security", "utilities")
CAMERAS = (("cam-front-1", "front_intake"), ("cam-public-door", "public_affairs"),
           ("cam-egov-1", "egov_experience"))


def fill(db: Database, days: int, per_day: int, waiting: int, rng: random.Random) -> None:
    with db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
        items = [(i.code, i.department_code, i.time_limit_days)
                 for i in s.scalars(select(ServiceItem))]
        s.execute(update(Window).where(Window.number <= 20).values(state="idle"))
        s.add_all(Camera(name=name, zone_code=zone, host="127.0.0.1", port=18081,
                         role="occupancy", status="online", last_seen_at=NOW)
                  for name, zone in CAMERAS)
    ticket_id = case_id = rating_id = 0
    for d in range(days, -1, -1):
        day = (NOW - dt.timedelta(days=d)).date()
        start = dt.datetime.combine(day, dt.time(0, 30))
        visits = per_day if d else per_day // 2
        tickets, ratings, cases, case_items = [], [], [], []
        for n in range(visits + (waiting if d == 0 else 0)):
            ticket_id += 1
            at = start + dt.timedelta(seconds=n * 36000 / (visits + waiting))
            window = rng.randint(1, 20)
            done = n < visits
            tickets.append({
                "id": ticket_id, "number": f"X{n:05d}", "day": day, "seq": n + 1,
                "origin_service_code": SERVICES[n % 5], "service_code": SERVICES[n % 5],
                "priority": "normal", "status": "done" if done else "waiting",
                "taken_at": at, "rank_at": at, "finished_at": at if done else None,
                "window_number": window if done else None,
                "clerk_id": f"c{window:02d}" if done else None, "recalls": 0,
                "status_token": f"t{ticket_id:031d}"})
            if done and rng.random() < 0.75:
                rating_id += 1
                ratings.append({"id": rating_id, "subject": "visit", "ticket_id": ticket_id,
                                "window_number": window, "clerk_id": f"c{window:02d}",
                                "service_code": SERVICES[n % 5], "tags": [],
                                "level": rng.choice((3, 4, 5, 5, 5)), "channel": "ticket_page",
                                "at": at, "excluded": False,
                                "chain_seq": rating_id, "chain_hash": "0" * 64})
            if done and n % (per_day // 150 or 1) == 0:
                case_id += 1
                cases.append({"id": case_id, "number": f"SQ{day:%Y%m%d}-{case_id:05d}",
                              "day": day, "accepted_at": at, "ticket_id": ticket_id,
                              "window_number": window, "clerk_id": f"c{window:02d}",
                              "applicant_kind": "person", "applicant_name": "张三",
                              "applicant_id_number": "330106198507201239",
                              "applicant_id_hash": "x", "applicant_phone": "13800138000"})
                for code, department, limit in rng.sample(items, 2):
                    open_ = d <= 10 and rng.random() < 0.5
                    card = rng.choices(("green", "yellow", "red"), (90, 8, 2))[0]
                    case_items.append({
                        "case_id": case_id, "item_code": code, "department_code": department,
                        "department_name_zh": department, "time_limit_days": limit,
                        "status": "in_review" if open_ else "approved",
                        "decided_at": None if open_ else at,
                        "card": card if open_ else "green"})
        with db.write() as s:
            s.execute(insert(Ticket), tickets)
            if ratings:
                s.execute(insert(Rating), ratings)
            s.execute(insert(Case), cases)
            s.execute(insert(CaseItem), case_items)
        if d < 7:
            samples = [{"zone_code": zone, "camera_name": name, "source": "camera",
                        "at": start + dt.timedelta(seconds=30 * k), "count": rng.randint(5, 80)}
                       for k in range(1200) for name, zone in CAMERAS
                       if start + dt.timedelta(seconds=30 * k) <= NOW]
            with db.write() as s:
                s.execute(insert(OccupancySample), samples)


def timed(build: Callable[[], object]) -> float:
    started = time.perf_counter()
    build()
    return (time.perf_counter() - started) * 1000


def parts(db: Database, hall: HallConfig) -> None:
    """Each read of one hall, median of 20, and the deadline watch the overview leaves out."""
    day = hall_day(NOW, hall.timezone)
    rules = EvaluationRules.from_config(hall)
    with db.read() as s:
        per_zone = waiting_per_zone(s, hall, NOW)

    def read(fn: Callable[..., object]) -> Callable[[], object]:
        def run() -> object:
            with db.read() as s:
                return fn(s)
        return run

    reads: dict[str, Callable[[], object]] = {
        "whole hall (hall_figures)": lambda: overview.hall_figures(db, hall, NOW),
        "waiting by service": read(lambda s: queue.waiting_by_service(s, day)),
        "longest wait": read(lambda s: overview._longest_wait(s, day, NOW)),
        "windows open / all": read(overview._windows),
        "waiting per zone": read(lambda s: waiting_per_zone(s, hall, NOW)),
        "people (zone_occupancy)": lambda: zone_occupancy(db, NOW, per_zone),
        "cards (overdue, yellow)": read(overview._cards),
        "today's 好差评 (ratings_given)": read(
            lambda s: figures.ratings_given(s, rules, day, day)),
        "today's 好差评 (all figures)": read(
            lambda s: figures.figures(s, rules, day, day, "hall", day)),
        "deadline watch (not used)": read(
            lambda s: deadline_watch(s, hall.intake_rules, NOW)),
    }
    print("one hall, median of 20 reads:")
    for name, run in reads.items():
        run()
        print(f"  {name:<28} {statistics.median(timed(run) for _ in range(20)):7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--halls", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=800)
    parser.add_argument("--waiting", type=int, default=60)
    parser.add_argument("--parts", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault(privacy.ENV_KEY, privacy.new_key())
        privacy.install(privacy.PersonalDataCipher.from_instance(tmp))
        template = Path(tmp) / "template.db"
        config = demo_hall_as("h000", "样板大厅", "Template hall")
        started = time.perf_counter()
        db = hall_database(f"sqlite:///{template}", config)
        fill(db, args.days, args.per_day, args.waiting, random.Random(14))
        with db.read() as s:
            open_items = s.scalar(select(func.count()).select_from(CaseItem)
                                  .where(CaseItem.status.in_(OPEN_STATUSES)))
            tickets = s.scalar(select(func.count()).select_from(Ticket))
            samples = s.scalar(select(func.count()).select_from(OccupancySample))
        if args.parts:
            parts(db, config)
        db.dispose()
        print(f"one hall: {tickets} tickets, {open_items} undecided items, "
              f"{samples} camera samples "
              f"(filled in {time.perf_counter() - started:.0f} s)")
        most = max(args.halls)
        refs = [HallRef("region", "全省", "Province", "province", None, floor=False)]
        databases, configs = {}, {}
        for n in range(most):
            code = f"h{n:03d}"
            shutil.copyfile(template, Path(tmp) / f"{code}.db")
            refs.append(HallRef(code, f"大厅{n}", f"Hall {n}", "district", "region"))
            configs[code] = demo_hall_as(code, f"大厅{n}", f"Hall {n}")
            databases[code] = Database(f"sqlite:///{tmp}/{code}.db")
        directories = {count: StaticDirectory(refs[:count + 1], databases, configs)
                       for count in args.halls}
        cold = {count: timed(lambda d=d: overview.regional_overview(d, NOW))
                for count, d in directories.items()}
        runs: dict[int, list[float]] = {count: [] for count in args.halls}
        for _ in range(args.repeat):
            for count, directory in directories.items():
                runs[count].append(timed(lambda d=directory: overview.regional_overview(d, NOW)))
        print(f"regional overview, median of {args.repeat} (cold: first run after opening):")
        for count in args.halls:
            median = statistics.median(runs[count])
            print(f"  {count:>4} halls  {median:8.0f} ms  ({median / count:5.1f} ms a hall; "
                  f"range {min(runs[count]):.0f}–{max(runs[count]):.0f}; cold {cold[count]:.0f})")
        for db_ in databases.values():
            db_.dispose()


if __name__ == "__main__":
    main()
