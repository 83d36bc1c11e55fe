"""What the tamper-evident record costs: tickets/s with and without chaining.

Runs ``bench/ticket_rate.py`` (domain level on SQLite and PostgreSQL, HTTP on SQLite and
PostgreSQL) once from this tree (chained) and once from a tree exported from a revision
before chaining (``--baseline``, default 5ee4baa, ``git archive`` into a temporary
directory), alternating the two ``--runs`` times so that both see the same machine noise;
prints the medians and their ratio.

    .venv/bin/python bench/audit_cost.py                      # 3 alternating runs each
    .venv/bin/python bench/audit_cost.py --runs 1 --threads 1 16 --clients 8 --no-pg-http
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^(domain|http)\s+(sqlite|postgresql)\s+(\d+):\s+(\d+) tickets/s")


def export(revision: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def one_run(tree: Path, args: list[str]) -> dict[tuple[str, str, int], float]:
    """``ticket_rate.py`` of ``tree`` (its own code imported: it runs from there)."""
    done = subprocess.run([sys.executable, str(tree / "bench" / "ticket_rate.py"),
                           "--runs", "1", *args], cwd=tree, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ticket_rate.py in {tree} failed:\n{done.stderr[-2000:]}")
    figures = {}
    for line in done.stdout.splitlines():
        match = LINE.match(line)
        if match:
            level, database, n, rate = match.groups()
            figures[(level, database, int(n))] = float(rate)
    return figures


CPU_SNIPPET = """
import sys, tempfile, time, datetime as dt
from pathlib import Path
sys.path.insert(0, ".")
from hall_ops import queue
from hall_ops.config import load_config
from hall_ops.db import Database
from hall_ops.hall import load_hall
hall = load_config("config.toml")
services = [s.code for s in hall.services if s.code in ("enterprise", "real_estate", "social")]
with tempfile.TemporaryDirectory() as tmp:
    db = Database(sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tmp}/h.db")
    db.create_all()
    with db.write() as s:
        load_hall(s, hall)
    now = dt.datetime(2026, 11, 25, 2)
    n = 1500
    started = time.process_time()
    for i in range(n):
        with db.write() as s:
            ticket = queue.take_ticket(s, hall, services[i % len(services)], now,
                                       ignore_hours=True)
    print((time.process_time() - started) / n * 1e6)
    db.dispose()
"""


def cpu_per_ticket(tree: Path, url: str | None) -> float:
    """CPU time of this process per ticket (µs), one kiosk: far less sensitive to a loaded
    machine than tickets/s (the database server's own CPU is not in it)."""
    done = subprocess.run([sys.executable, "-c", CPU_SNIPPET, *([url] if url else [])],
                          cwd=tree, capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="5ee4baa", help="a revision without chaining")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", nargs="+", default=["1", "4", "16"])
    parser.add_argument("--clients", nargs="+", default=["1", "8", "32"])
    parser.add_argument("--tickets", default="3200")
    parser.add_argument("--http-tickets", default="800")
    parser.add_argument("--cpu", action="store_true",
                        help="only the client-side CPU time per ticket (domain, one kiosk)")
    parser.add_argument("--no-pg-http", action="store_true",
                        help="HTTP on SQLite only (PostgreSQL over HTTP is the slowest part)")
    args = parser.parse_args()
    rate_args = ["--threads", *args.threads, "--tickets", args.tickets,
                 "--clients", *args.clients, "--http-tickets", args.http_tickets]
    if not args.no_pg_http:
        rate_args.append("--postgres-http")
    if args.cpu:
        cpu(args)
        return
    with tempfile.TemporaryDirectory(prefix="hall-baseline-") as tmp:
        baseline = export(args.baseline, Path(tmp))
        runs: dict[str, list[dict[tuple[str, str, int], float]]] = {"without": [], "with": []}
        for i in range(args.runs):
            for name, tree in (("without", baseline), ("with", ROOT)):
                runs[name].append(one_run(tree, rate_args))
                print(f"run {i + 1} {name} chaining: " + ", ".join(
                    f"{k[0]}/{k[1]}/{k[2]}={v:.0f}" for k, v in runs[name][-1].items()),
                    flush=True)
    keys = list(runs["with"][0])
    print(f"\nlevel    database    threads/clients  without  with  ratio   "
          f"(tickets/s, medians of {args.runs}; runs without | with)")
    for key in keys:
        without = [r[key] for r in runs["without"] if key in r]
        with_ = [r[key] for r in runs["with"] if key in r]
        a, b = statistics.median(without), statistics.median(with_)
        print(f"{key[0]:<8} {key[1]:<11} {key[2]:>15}  {a:7.0f} {b:5.0f}  {b / a:5.2f}   "
              + ", ".join(f"{x:.0f}" for x in without) + " | "
              + ", ".join(f"{x:.0f}" for x in with_))


def cpu(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from ticket_rate import postgres_url

    with tempfile.TemporaryDirectory(prefix="hall-baseline-") as tmp:
        baseline = export(args.baseline, Path(tmp))
        figures: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            for name, tree in (("without", baseline), ("with", ROOT)):
                figures.setdefault(("sqlite", name), []).append(cpu_per_ticket(tree, None))
                with postgres_url() as url:
                    figures.setdefault(("postgresql", name), []).append(
                        cpu_per_ticket(tree, url))
    print(f"CPU µs per ticket in the issuing process (one kiosk, medians of {args.runs})")
    for database in ("sqlite", "postgresql"):
        a = statistics.median(figures[(database, "without")])
        b = statistics.median(figures[(database, "with")])
        print(f"{database:<11} without {a:6.0f}  with {b:6.0f}  ratio {a / b:4.2f} (as a rate)  "
              f"runs: {', '.join(f'{x:.0f}' for x in figures[(database, 'without')])} | "
              f"{', '.join(f'{x:.0f}' for x in figures[(database, 'with')])}")


if __name__ == "__main__":
    main()
