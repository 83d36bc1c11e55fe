"""Tickets issued per second: the kiosks' path, at the domain level and over HTTP.

(a) domain: ``hall_ops.queue.take_ticket`` in N threads, one write transaction
    per ticket, against a Database on a tmp SQLite file (and, for comparison,
    on a fresh PostgreSQL database that is dropped afterwards);
(b) HTTP: K concurrent kiosks (aiohttp, one asyncio loop, its own process)
    POSTing /api/v1/tickets to the real server (``python -m hall_web serve``
    as a subprocess). Each HTTP ticket also builds and pushes the queue
    snapshot to the screens, as in the hall.

Tickets rotate over every citizen-facing service. Each figure is the median
over ``--runs`` runs on a fresh database.

    .venv/bin/python bench/ticket_rate.py                 # SQLite + PostgreSQL, 3 runs
    .venv/bin/python bench/ticket_rate.py --no-postgres --threads 1 4 --clients 1 8 32
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import KINDS, MODES, ROOT, server

sys.path.insert(0, str(ROOT))
from sqlalchemy import create_engine, func, select, text

from hall_ops import queue
from hall_ops.clock import system_clock
from hall_ops.config import HallConfig, load_config
from hall_ops.db import Database
from hall_ops.hall import load_hall
from hall_ops.queue.models import Ticket
from zones import rules_for

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def citizen_services(hall: HallConfig) -> list[str]:
    return [s.code for s in hall.services if rules_for(s.zone).citizen_facing]


def _check_unique(db: Database, expected: int) -> None:
    """A benchmark that issued duplicate numbers measured nothing worth quoting."""
    with db.read() as s:
        total = s.scalar(select(func.count()).select_from(Ticket))
        distinct = s.scalar(select(func.count(func.distinct(Ticket.number))))
    if total != expected or distinct != expected:
        raise RuntimeError(
            f"expected {expected} distinct tickets, found {total} ({distinct} distinct)"
        )


# ---------------------------------------------------------------- (a) domain level


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="hall-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'hall.db'}"


@contextmanager
def postgres_url() -> Iterator[str]:
    """A fresh database on the local server, dropped afterwards."""
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


def domain_rate(url: str, hall: HallConfig, threads: int, tickets: int) -> float:
    db = Database(url)
    try:
        db.create_all()
        with db.write() as s:
            load_hall(s, hall)
        services = citizen_services(hall)
        per_thread = tickets // threads
        barrier = threading.Barrier(threads + 1)
        errors: list[BaseException] = []

        def kiosk(k: int) -> None:
            try:
                barrier.wait()
                for i in range(per_thread):
                    with db.write(origin=f"bench kiosk {k}") as s:
                        queue.take_ticket(s, hall, services[(k + i) % len(services)],
                                          system_clock(), ignore_hours=True)
            except BaseException as exc:  # re-raised below
                errors.append(exc)

        workers = [threading.Thread(target=kiosk, args=(k,)) for k in range(threads)]
        for w in workers:
            w.start()
        barrier.wait()
        started = time.perf_counter()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - started
        if errors:
            raise errors[0]
        _check_unique(db, per_thread * threads)
        return per_thread * threads / elapsed
    finally:
        db.dispose()


# ---------------------------------------------------------------- (b) over HTTP


async def _http_kiosks(base: str, services: list[str], clients: int, tickets: int) -> float:
    import aiohttp

    per_client = tickets // clients
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def kiosk(k: int) -> None:
            for i in range(per_client):
                service = services[(k + i) % len(services)]
                async with session.post(f"{base}/api/v1/tickets", json={"service": service}) as r:
                    if r.status != 201:
                        raise RuntimeError(f"POST /tickets: {r.status} {await r.text()}")
                    await r.read()

        started = time.perf_counter()
        await asyncio.gather(*(kiosk(k) for k in range(clients)))
        return per_client * clients / (time.perf_counter() - started)


def http_rate(mode: str, hall: HallConfig, clients: int, tickets: int,
              database_url: str | None = None, kind: str = "production") -> float:
    with server(mode, database_url=database_url, kind=kind) as srv:
        rate = asyncio.run(_http_kiosks(srv.url, citizen_services(hall), clients, tickets))
        db = Database(srv.database_url)
        try:
            _check_unique(db, (tickets // clients) * clients)
        finally:
            db.dispose()
    return rate


# ---------------------------------------------------------------- report


def median_of(runs: int, measure: Callable[[], float]) -> tuple[float, list[float]]:
    figures = [measure() for _ in range(runs)]
    return statistics.median(figures), figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4, 16],
                        help="domain-level kiosk threads")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32],
                        help="concurrent HTTP kiosks")
    parser.add_argument("--tickets", type=int, default=3200, help="tickets per domain run")
    parser.add_argument("--http-tickets", type=int, default=1600, help="tickets per HTTP run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--async-mode", choices=MODES, default="threading")
    parser.add_argument("--server", choices=KINDS, default="production",
                        help="HTTP server: as ./hall serve runs it, or Flask-SocketIO's own")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--postgres-http", action="store_true",
                        help="also run (b) against a server on PostgreSQL")
    args = parser.parse_args()
    hall = load_config(ROOT / "config.toml")

    rows: list[tuple[str, str, int, float, list[float]]] = []

    def record(level: str, database: str, n: int, measure: Callable[[], float]) -> None:
        med, figures = median_of(args.runs, measure)
        rows.append((level, database, n, med, figures))
        print(f"{level:<7} {database:<10} {n:>3}: {med:8.0f} tickets/s  "
              f"(runs: {', '.join(f'{f:.0f}' for f in figures)})", flush=True)

    def on_sqlite(n: int) -> float:
        with sqlite_url() as url:
            return domain_rate(url, hall, n, args.tickets)

    def on_postgres(n: int) -> float:
        with postgres_url() as url:
            return domain_rate(url, hall, n, args.tickets)

    def over_http_pg(n: int) -> float:
        with postgres_url() as url:
            return http_rate(args.async_mode, hall, n, args.http_tickets, url, args.server)

    for n in args.threads:
        record("domain", "sqlite", n, lambda n=n: on_sqlite(n))
    if not args.no_postgres:
        for n in args.threads:
            record("domain", "postgresql", n, lambda n=n: on_postgres(n))
    for n in args.clients:
        record("http", "sqlite", n,
               lambda n=n: http_rate(args.async_mode, hall, n, args.http_tickets,
                                     kind=args.server))
    if args.postgres_http:
        for n in args.clients:
            record("http", "postgresql", n, lambda n=n: over_http_pg(n))

    print(f"\nlevel    database    threads/clients  tickets/s (median of {args.runs})  runs")
    for level, database, n, med, figures in rows:
        print(f"{level:<8} {database:<11} {n:>15}  {med:>24.0f}  "
              + ", ".join(f"{f:.0f}" for f in figures))
    print(f"(HTTP server: {args.async_mode}, {args.server}; one write transaction per ticket)")


if __name__ == "__main__":
    main()
