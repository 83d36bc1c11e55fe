"""The production server against the one before it, in each async mode, in the same run.

``production`` is ``serve`` as ``./hall serve`` runs it (gunicorn's gthread worker in
threading mode, gunicorn's gevent worker in gevent mode, eventlet's own WSGI server in
eventlet mode); ``embedded`` is the same ``serve`` on Flask-SocketIO's own
``socketio.run`` (Werkzeug's development server / ``gevent.pywsgi`` / eventlet's
server — so in eventlet mode both are the same server, a control for the noise).
Both are started by ``tests/support/server.HallServer``.

Per repeat, mode and measurement the two servers run back to back, their order
alternating between repeats, each on a fresh server and SQLite file:

* tickets/s over HTTP with 1 kiosk and with ``--kiosks`` concurrent kiosks
  (``ticket_rate.http_rate``: POST /api/v1/tickets, numbers checked distinct);
* a clerk's call-next answer time and call → screen time with ``--screens`` screens
  (``screens_latency.run_once``: p50 over ``--calls`` calls of the slowest screen).

Each figure is the median over ``--repeat`` runs; the ratio is production / embedded.

    ./hall bench production_server --repeat 3
    .venv/bin/python bench/production_server.py --async-mode gevent --repeat 5 --screens 200
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import KINDS, MODES, ROOT
from screens_latency import run_once
from ticket_rate import http_rate

from hall_ops.config import load_config

METRICS = ["tickets/s, 1 kiosk", "tickets/s, {k} kiosks", "call-next answer p50 (ms)",
           "call → slowest screen p50 (ms)", "call → slowest screen p99 (ms)"]


def measure(mode: str, kind: str, args: argparse.Namespace) -> dict[str, float]:
    names = [name.format(k=args.kiosks) for name in METRICS]
    figures: dict[str, float] = {}
    if "tickets" in args.measure:
        hall = load_config(ROOT / "config.toml")
        figures[names[0]] = http_rate(mode, hall, 1, args.tickets, kind=kind)
        figures[names[1]] = http_rate(mode, hall, args.kiosks, args.tickets, kind=kind)
    if "screens" in args.measure:
        screens = run_once(mode, args.screens, args.calls, 1, args.client, kind).row()
        figures.update(zip(names[2:], (screens["http_p50"], screens["max_p50"],
                                       screens["max_p99"]), strict=True))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--async-mode", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tickets", type=int, default=300, help="tickets per HTTP run")
    parser.add_argument("--kiosks", type=int, default=8, help="concurrent kiosks")
    parser.add_argument("--screens", type=int, default=100)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--measure", nargs="+", choices=["tickets", "screens"],
                        default=["tickets", "screens"])
    parser.add_argument("--client", choices=["socketio", "raw"], default="raw",
                        help="screens' client (raw: less load-generator CPU)")
    args = parser.parse_args()

    runs: dict[tuple[str, str], list[dict[str, float]]] = {
        (mode, kind): [] for mode in args.async_mode for kind in KINDS}
    started = time.monotonic()
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    for r in range(args.repeat):
        order = KINDS if r % 2 == 0 else tuple(reversed(KINDS))
        for mode in args.async_mode:
            for kind in order:
                figures = measure(mode, kind, args)
                runs[mode, kind].append(figures)
                print(f"run {r + 1} {mode:<9} {kind:<10} load {os.getloadavg()[0]:.1f}: "
                      + ", ".join(f"{name} {value:.1f}" for name, value in figures.items()),
                      flush=True)

    print("\n| mode | measure | embedded | production | ratio | runs (embedded; production) |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for mode in args.async_mode:
        for name in runs[mode, KINDS[0]][0]:
            values = {kind: [run[name] for run in runs[mode, kind]] for kind in KINDS}
            med = {kind: statistics.median(values[kind]) for kind in KINDS}
            listed = "; ".join(", ".join(f"{v:.0f}" for v in values[kind])
                               for kind in ("embedded", "production"))
            print(f"| {mode} | {name} | {med['embedded']:.1f} | {med['production']:.1f} "
                  f"| {med['production'] / med['embedded']:.2f} | {listed} |")
    measured = [f"{args.tickets} tickets per HTTP run"] if "tickets" in args.measure else []
    if "screens" in args.measure:
        measured.append(f"{args.screens} screens ({args.client} client), {args.calls} calls")
    print(f"\nmedians of {args.repeat} runs, alternating; {'; '.join(measured)}; "
          f"{time.monotonic() - started:.0f} s; load average at the end: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
