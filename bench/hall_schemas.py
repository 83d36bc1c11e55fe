"""What a hall of a deployment on PostgreSQL costs: a schema per hall, one pool per process.

Each hall's transactions begin with ``SET LOCAL search_path TO hall_<code>`` (``hall_ops/
db.py``): one more statement per transaction. Measured at the domain level (the
``ticket_rate.py`` loop: ``take_ticket`` in its own write transaction), alternating in one
run between a hall owning its database (no schema) and a hall in a schema of a shared
database, with 1 and 4 kiosk threads; then 20 halls in one process issuing at once, with
the connections the database saw (``pg_stat_activity``): bounded by the shared pool, not
by the number of halls.

    python bench/hall_schemas.py [--runs 5] [--tickets 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import NullPool, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hall_ops import queue
from hall_ops.clock import system_clock
from hall_ops.config import HallConfig, load_config
from hall_ops.db import Database
from hall_ops.hall import load_hall

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def postgres_url() -> Iterator[str]:
    name = f"hall_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepared(url: str, hall: HallConfig, schema: str | None) -> Database:
    db = Database(url, schema=schema)
    db.prepare_schema()
    with db.write() as s:
        load_hall(s, hall)
    return db


def issue(dbs: list[Database], hall: HallConfig, threads: int, tickets: int) -> float:
    """Tickets/s with ``threads`` kiosks, kiosk k writing to ``dbs[k % len(dbs)]``."""
    per_thread = tickets // threads
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def kiosk(k: int) -> None:
        db = dbs[k % len(dbs)]
        try:
            barrier.wait()
            for _ in range(per_thread):
                with db.write(origin="bench") as s:
                    queue.take_ticket(s, hall, "enterprise", system_clock(), ignore_hours=True)
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    workers = [threading.Thread(target=kiosk, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return per_thread * threads / (time.perf_counter() - started)


def connections(url: str) -> int:
    """Backends connected to the database at this instant (the watcher's own is elsewhere)."""
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN, poolclass=NullPool)
    with admin.connect() as conn:
        found = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"),
                             {"d": name}).scalar_one()
    admin.dispose()
    return int(found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tickets", type=int, default=300)
    args = parser.parse_args()
    hall = load_config(ROOT / "config.toml")
    print(f"hall schemas on PostgreSQL: {args.runs} alternating runs of {args.tickets} tickets")
    with postgres_url() as own_url, postgres_url() as shared_url:
        own = prepared(own_url, hall, None)
        in_schema = prepared(shared_url, hall, "hall_a")
        for threads in (1, 4):
            figures: dict[str, list[float]] = {"own database": [], "schema hall_a": []}
            for _ in range(args.runs):
                figures["own database"].append(issue([own], hall, threads, args.tickets))
                figures["schema hall_a"].append(issue([in_schema], hall, threads, args.tickets))
            plain, scoped = (statistics.median(v) for v in figures.values())
            print(f"  {threads} kiosk(s): own database {plain:.0f}/s, schema {scoped:.0f}/s, "
                  f"ratio {scoped / plain:.2f}  (runs: "
                  + "; ".join(", ".join(f"{x:.0f}" for x in v) for v in figures.values()) + ")")
        own.dispose()
        halls = [in_schema] + [prepared(shared_url, hall, f"hall_{i}") for i in range(1, 20)]
        peak, done = [0], threading.Event()

        def watch() -> None:  # the most connections the database saw while they issued
            while not done.is_set():
                peak[0] = max(peak[0], connections(shared_url))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        rate = issue(halls, hall, 20, 20 * 20)
        done.set()
        watcher.join()
        print(f"  20 halls, 20 kiosks (one per hall) in one process: {rate:.0f} tickets/s, "
              f"at most {peak[0]} connections to the database (pool 10 + 10)")
        for db in halls:
            db.dispose()


if __name__ == "__main__":
    main()
