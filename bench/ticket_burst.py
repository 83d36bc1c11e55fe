"""Tickets over HTTP on one process, and how evenly a burst of kiosks is served.

K kiosks (1, 8, 32 by default) start together and each takes tickets back to back
(``POST /api/v1/tickets``, each kiosk on its own keep-alive connection, opened before
the clock starts) against a fresh production server (``python -m hall_web serve``, as
``./hall serve`` runs it) on a fresh SQLite file or PostgreSQL database. Per run and
kiosk count: tickets/s, and every ticket's answer time — p50, p99, max and p99/p50 (the
goal at 32 kiosks: p99 ≤ 3× p50, no ticket over 1 s).

With ``--baseline REV [REV …]`` the same is measured on servers run from those revisions
(``git archive`` into temporary directories), alternating with this tree run by run (the
order rotates), so all see the same machine load; the summary gives the medians of each
and the ratio of this tree to each revision.

    .venv/bin/python bench/ticket_burst.py                        # this tree, 3 runs
    .venv/bin/python bench/ticket_burst.py --baseline 736ae45 d724503 --runs 3
    .venv/bin/python bench/ticket_burst.py --clients 32 --per-kiosk 25 --databases sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import MODES, ROOT, percentile
from ticket_rate import _check_unique, citizen_services, postgres_url

from hall_ops.config import load_config
from hall_ops.db import Database
from tests.support.server import HallServer


@dataclass(frozen=True)
class Burst:
    rate: float
    """Tickets per second over the burst (first request sent to last answer read)."""
    latencies: list[float]
    """Seconds per ticket, request sent to answer read."""
    cpu: float
    """The server's CPU seconds per ticket over the burst (all its processes): less swayed
    by other load on the machine than tickets/s; 1/cpu is what one core could issue."""

    @property
    def figures(self) -> dict[str, float]:
        p50 = percentile(self.latencies, 50)
        p99 = percentile(self.latencies, 99)
        return {"rate": self.rate, "p50": p50 * 1000, "p99": p99 * 1000,
                "max": max(self.latencies) * 1000, "p99/p50": p99 / p50,
                "cpu": self.cpu * 1000}


def server_cpu(group: int) -> float:
    """CPU seconds (user + system) used so far by the processes of process group ``group``
    (the server's gunicorn master and worker; Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / tick


async def _burst(
    base: str, services: list[str], kiosks: int, per_kiosk: int, group: int, warm: bool
) -> Burst:
    import aiohttp

    sessions = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1))
                for _ in range(kiosks)]
    try:
        async def untimed(session: aiohttp.ClientSession, method: str, path: str,
                          body: dict[str, str] | None = None) -> None:
            async with session.request(method, f"{base}{path}", json=body) as reply:
                await reply.read()

        # each kiosk's connection is open before the clock starts, as a kiosk's is
        await asyncio.gather(*(untimed(s, "GET", "/api/v1/hall") for s in sessions))
        if warm:  # one ticket each, together: the server's database pool holds enough
            await asyncio.gather(*(
                untimed(s, "POST", "/api/v1/tickets", {"service": services[k % len(services)]})
                for k, s in enumerate(sessions)))
        start = asyncio.Event()
        latencies: list[float] = []

        async def kiosk(k: int, session: aiohttp.ClientSession) -> None:
            await start.wait()
            for i in range(per_kiosk):
                body = {"service": services[(k + i) % len(services)]}
                sent = time.perf_counter()
                async with session.post(f"{base}/api/v1/tickets", json=body) as reply:
                    await reply.read()
                    if reply.status != 201:
                        raise RuntimeError(f"POST /tickets: {reply.status} {await reply.text()}")
                latencies.append(time.perf_counter() - sent)

        tasks = [asyncio.create_task(kiosk(k, s)) for k, s in enumerate(sessions)]
        await asyncio.sleep(0.05)  # every kiosk waiting on the start
        cpu = server_cpu(group)
        started = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.5)  # what the tickets left to do: the coalesced screen push
        return Burst(len(latencies) / elapsed, latencies,
                     (server_cpu(group) - cpu) / len(latencies))
    finally:
        await asyncio.gather(*(s.close() for s in sessions))


@contextmanager
def _database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'hall.db'}"
    else:
        with postgres_url() as url:
            yield url


def measure(
    tree: Path, database: str, kiosks: int, per_kiosk: int, mode: str, warm: bool = False
) -> Burst:
    """One burst against a fresh server run from ``tree`` on a fresh database."""
    services = citizen_services(load_config(ROOT / "config.toml"))
    with tempfile.TemporaryDirectory(prefix="hall-burst-") as tmp, ExitStack() as stack:
        url = stack.enter_context(_database(database, Path(tmp)))
        server = stack.enter_context(HallServer(
            Path(tmp), "--async-mode", mode, database_url=url,
            config=tree / "config.toml", cwd=tree))
        assert server.process is not None
        burst = asyncio.run(_burst(server.url, services, kiosks, per_kiosk, server.process.pid,
                                   warm))
        db = Database(url)
        try:
            _check_unique(db, kiosks * (per_kiosk + warm))
        finally:
            db.dispose()
    return burst


def export(revision: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--per-kiosk", type=int, default=0,
                        help="tickets per kiosk (default: 300 in all, at least 20 each)")
    parser.add_argument("--databases", nargs="+", choices=("sqlite", "postgresql"),
                        default=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--async-mode", choices=MODES, default="threading")
    parser.add_argument("--warm", action="store_true",
                        help="one untimed ticket per kiosk first, all together: the burst then "
                             "finds the server's database connections open (PostgreSQL)")
    parser.add_argument("--baseline", nargs="+", default=[],
                        help="revisions to compare with, run alternately")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hall-baseline-") as tmp:
        trees = {rev: export(rev, Path(tmp) / rev) for rev in args.baseline} | {"this": ROOT}
        results: dict[tuple[str, str, int], list[dict[str, float]]] = {}
        for run in range(args.runs):
            order = list(trees.items())
            order = order[run % len(order):] + order[:run % len(order)]
            for database in args.databases:
                for kiosks in args.clients:
                    per_kiosk = args.per_kiosk or max(20, 300 // kiosks)
                    for name, tree in order:
                        load = _load()
                        figures = measure(tree, database, kiosks, per_kiosk,
                                          args.async_mode, args.warm).figures
                        results.setdefault((name, database, kiosks), []).append(figures)
                        print(f"run {run + 1} {name:<7} {database:<10} {kiosks:>2} kiosks: "
                              f"{figures['rate']:6.0f} tickets/s  p50 {figures['p50']:7.1f}  "
                              f"p99 {figures['p99']:7.1f}  max {figures['max']:7.1f} ms  "
                              f"p99/p50 {figures['p99/p50']:4.1f}  "
                              f"CPU {figures['cpu']:5.2f} ms/ticket  (load {load})", flush=True)

    print(f"\nmedians of {args.runs} runs ({args.async_mode}; ms; this/base as a ratio)")
    print("database   kiosks  tree     tickets/s     p50     p99     max  p99/p50  CPU ms")
    for database in args.databases:
        for kiosks in args.clients:
            medians = {}
            for name in trees:
                runs = results[(name, database, kiosks)]
                medians[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                m = medians[name]
                print(f"{database:<10} {kiosks:>6}  {name:<7} {m['rate']:9.0f} {m['p50']:7.1f} "
                      f"{m['p99']:7.1f} {m['max']:7.1f} {m['p99/p50']:8.1f} {m['cpu']:7.2f}")
            b = medians["this"]
            for rev in args.baseline:
                a = medians[rev]
                print(f"{database:<10} {kiosks:>6}  this/{rev:<7} {b['rate'] / a['rate']:4.2f} "
                      f"{b['p50'] / a['p50']:7.2f} {b['p99'] / a['p99']:7.2f} "
                      f"{b['max'] / a['max']:7.2f} {'':8} {b['cpu'] / a['cpu']:7.2f}")


if __name__ == "__main__":
    main()
