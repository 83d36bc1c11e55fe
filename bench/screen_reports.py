"""What the screens' reports cost: N screen devices each report one call shown and spoken,
all screens at once (the reports are stored together, one transaction per ``[server]
report_seconds``, then a ``reach`` push to the window), in-process with the Flask-SocketIO
test client, on SQLite or PostgreSQL. Prints the time for a whole call's reports (the clerk
console's count is final when the last one is in) and per report.

    .venv/bin/python bench/screen_reports.py --screens 10 30 100 --calls 5 [--postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from displays.screens import Publisher  # noqa: E402
from hall_ops.config import load_config  # noqa: E402
from hall_ops.staff import devices  # noqa: E402
from tests.conftest import StepClock  # noqa: E402
from tests.support.web import CHEAP, hall_app, window_client  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def run(screens: int, calls: int, url: str) -> list[float]:
    """Seconds for all reports of each call."""
    app = hall_app(load_config(ROOT / "config.toml"), clock=StepClock(), database_url=url)
    hall = app.extensions["hall"]
    links = []
    with hall.db.write() as s:
        for i in range(screens):
            _, token = devices.issue_device(s, "bench", "screen", f"屏{i}", "hall", hall.clock(),
                                            CHEAP)
            links.append(devices.device_link("screen", "hall", token))
    clients = []
    for link in links:
        browser = app.test_client()
        browser.get(link)
        client = hall.socketio.test_client(app, flask_test_client=browser)
        assert client.emit("join", {"room": "hall"}, callback=True)["ok"]
        clients.append(client)
    clerk = window_client(app, 4, "c01")
    for _ in range(calls):
        app.test_client().post("/api/v1/tickets", json={"service": "enterprise"})
    took = []
    pool = ThreadPoolExecutor(screens)
    for _ in range(calls):
        seq = clerk.post("/api/v1/windows/4/call-next").json["call"]["seq"]
        t0 = time.perf_counter()
        for stage in ("shown", "spoken"):  # every screen at once, as the hall's screens do
            answers = list(pool.map(
                lambda c, st=stage, n=seq: c.emit("receipt", {"call": n, "stage": st},
                                                  callback=True),
                clients))
            assert answers == [{"ok": True}] * len(clients), answers
        took.append(time.perf_counter() - t0)
        reach = clerk.get("/api/v1/windows/4/reach").json
        assert (reach["expected"], reach["shown"], reach["spoken"]) == (screens,) * 3, reach
        clerk.post("/api/v1/windows/4/start")
        clerk.post("/api/v1/windows/4/finish")
        for client in clients:
            client.get_received()
    pool.shutdown()
    time.sleep(2 * Publisher.REACH_EVERY)  # the last count is pushed from a background task
    hall.db.dispose()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--screens", type=int, nargs="+", default=[10, 30, 100])
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    print("| database | screens | all reports of a call (median) | per report |")
    print("| --- | --- | --- | --- |")
    for n in args.screens:
        if args.postgres:
            name = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(PG, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = PG.rsplit("/", 1)[0] + f"/{name}"
            try:
                took = run(n, args.calls, url)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            with tempfile.TemporaryDirectory() as tmp:
                took = run(n, args.calls, f"sqlite:///{Path(tmp) / 'h.db'}")
        median = statistics.median(took)
        print(f"| {'PostgreSQL' if args.postgres else 'SQLite'} | {n} | {median * 1000:.0f} ms "
              f"| {median / (2 * n) * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
