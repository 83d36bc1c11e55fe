"""How long the 好差评 figures take over a month of a busy hall (SQLite file on disk).

Fills a fresh database with ``--days`` days of ``--per-day`` finished visits over 24
windows, three in four rated, one in twenty bad (each with its rectification), then times
``hall_ops.evaluation.figures.figures`` per group over the whole range and prints the
figures. Rows are inserted in bulk: the point is the read, not the writes.

    .venv/bin/python bench/rating_figures.py [--days 30] [--per-day 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from hall_ops.config import load_config  # noqa: E402
from hall_ops.db import Database  # noqa: E402
from hall_ops.evaluation.figures import GROUPS, figures  # noqa: E402
from hall_ops.evaluation.models import Rating, Rectification  # noqa: E402
from hall_ops.evaluation.ratings import EvaluationRules  # noqa: E402
from hall_ops.hall import load_hall  # noqa: E402
from hall_ops.queue.models import Ticket  # noqa: E402


def fill(db: Database, first: dt.date, days: int, per_day: int, rng: random.Random) -> int:
    ticket_id = rating_id = 0
    for d in range(days):
        day = first + dt.timedelta(days=d)
        at = dt.datetime.combine(day, dt.time(2, 0))
        tickets, ratings, rects = [], [], []
        for n in range(per_day):
            ticket_id += 1
            window = rng.randint(1, 24)
            tickets.append({"id": ticket_id, "number": f"X{n:05d}"[:8], "day": day, "seq": n + 1,
                            "origin_service_code": "enterprise", "service_code": "enterprise",
                            "priority": "normal", "status": "done", "taken_at": at, "rank_at": at,
                            "finished_at": at, "window_number": window,
                            "clerk_id": f"c{window:02d}", "recalls": 0,
                            "status_token": f"t{ticket_id:031d}"})
            if rng.random() < 0.75:
                rating_id += 1
                level = 1 if rng.random() < 0.05 else rng.choice((3, 4, 5, 5, 5))
                ratings.append({"id": rating_id, "subject": "visit", "ticket_id": ticket_id,
                                "window_number": window, "clerk_id": f"c{window:02d}",
                                "service_code": "enterprise", "level": level,
                                "tags": ["long_wait"] if level == 1 else [],
                                "channel": "ticket_page", "at": at, "excluded": False})
                if level == 1:
                    rects.append({"rating_id": rating_id, "window_number": window,
                                  "clerk_id": f"c{window:02d}", "opened_at": at,
                                  "due_on": day + dt.timedelta(days=21), "status": "open",
                                  "appeal_status": "none"})
        with db.write() as s:
            s.execute(insert(Ticket), tickets)
            s.execute(insert(Rating), ratings)
            if rects:
                s.execute(insert(Rectification), rects)
    return rating_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=2000)
    args = parser.parse_args()
    hall = load_config(ROOT / "config.toml")
    rules = EvaluationRules.from_config(hall)
    first = dt.date(2026, 11, 1)
    last = first + dt.timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.create_all()
        with db.write() as s:
            load_hall(s, hall)
        rated = fill(db, first, args.days, args.per_day, random.Random(7))
        print(f"{args.days} days × {args.per_day} visits, {rated} ratings")
        for group in GROUPS:
            started = time.perf_counter()
            with db.read() as s:
                rows = figures(s, rules, first, last, group, last)
            took = time.perf_counter() - started
            print(f"  {group:<10} {len(rows):>3} rows  {took * 1000:8.0f} ms")
        db.dispose()


if __name__ == "__main__":
    main()
