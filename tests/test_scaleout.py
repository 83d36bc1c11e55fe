"""Two server processes behind one PostgreSQL database and one Redis message queue.

The hall scales out by running ``python -m hall_web serve`` several times with
the same ``--database-url`` and ``--message-queue``. These tests start two real
processes (threading mode) and check what a hall would notice: a screen on
process B shows the call a clerk made through process A, kiosks hitting both
processes never share a number, and a screen that reconnects to the other
process is shown the same thing.

Redis pub/sub channels are not scoped by database index, so another run on the
same Redis could publish into ours; assertions therefore look for *our* events
(equal to what A answered) rather than asserting that nothing else arrived.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from sqlalchemy import func, select

from hall_ops.db import Database
from hall_ops.queue.models import Ticket
from tests.support.server import HallServer
from tests.support.web import live_window

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DEADLINE = 30.0


@pytest.fixture
def two_processes(
    pg_url: str, redis_server: str, tmp_path: Path
) -> Iterator[tuple[HallServer, HallServer]]:
    # One after the other: the first creates the tables and loads the hall,
    # the second finds them (two fresh processes racing on CREATE TABLE is a
    # deployment concern of its own, not what this test is about).
    args = ("--message-queue", redis_server, "--async-mode", "threading")
    with (
        HallServer(tmp_path, *args, database_url=pg_url, name="A") as a,
        HallServer(tmp_path, *args, database_url=pg_url, name="B") as b,
    ):
        yield a, b


class Screen:
    """A hall screen: a real Socket.IO client over WebSocket, joined to one room."""

    def __init__(self, room: str = "hall") -> None:
        self.room = room
        self.client = socketio.Client(reconnection=False)
        self.lock = threading.Lock()
        self.received: list[tuple[str, Any]] = []
        for name in ("snapshot", "call", "queue"):
            self.client.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Callable[[Any], None]:
        def record(data: Any) -> None:
            with self.lock:
                self.received.append((name, data))
        return record

    def events(self, name: str) -> list[Any]:
        with self.lock:
            return [data for kind, data in self.received if kind == name]

    def wait_for(self, name: str, match: Callable[[Any], bool]) -> Any:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            found = [d for d in self.events(name) if match(d)]
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no matching {name!r} within {DEADLINE}s; got {self.events(name)!r}")

    def connect(self, process: HallServer) -> dict[str, Any]:
        """Connect, emit join (as the page does on every connect) and return the snapshot."""
        with self.lock:
            self.received.clear()
        self.client.connect(process.url, transports=["websocket"], wait_timeout=DEADLINE)
        ack = self.client.call("join", {"room": self.room}, timeout=DEADLINE)
        assert ack == {"ok": True, "room": self.room}
        return self.wait_for("snapshot", lambda s: s["room"] == self.room)

    def disconnect(self) -> None:
        if self.client.connected:
            self.client.disconnect()


@pytest.fixture
def screens() -> Iterator[Callable[[str], Screen]]:
    made: list[Screen] = []

    def make(room: str = "hall") -> Screen:
        made.append(Screen(room))
        return made[-1]

    yield make
    for s in made:
        s.disconnect()


def _take(
    process: HallServer, service: str = "enterprise", session: requests.Session | None = None
) -> dict:
    reply = (session or requests).post(f"{process.url}/api/v1/tickets",
                                       json={"service": service}, timeout=DEADLINE)
    assert reply.status_code == 201, reply.text
    return reply.json()


def _clerk(process: HallServer, window: int, clerk: str) -> requests.Session:
    return live_window(process.url, window, clerk)


def _comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot without what depends on the instant it was built."""
    queue = snapshot["queue"]
    return {
        "room": snapshot["room"],
        "calls": snapshot["calls"],
        "services": [{k: v for k, v in s.items() if k != "longest_wait_minutes"}
                     for s in queue["services"]],
        "windows": queue["windows"],
    }


def test_screen_on_b_shows_the_call_made_through_a(two_processes, screens):
    a, b = two_processes
    on_b = screens("hall")
    zone_on_b = screens("zone:front_intake")
    assert on_b.connect(b)["calls"] == []
    zone_on_b.connect(b)

    ticket = _take(a)
    # The kiosk's ticket at A reaches B's screens as a queue push through Redis.
    on_b.wait_for("queue", lambda q: any(s["code"] == "enterprise" and s["waiting"] >= 1
                                         for s in q["services"]))

    reply = _clerk(a, 4, "c01").post(f"{a.url}/api/v1/windows/4/call-next", timeout=DEADLINE)
    assert reply.status_code == 200, reply.text
    call = reply.json()["call"]
    assert (call["ticket"], call["window"], call["recall"]) == (ticket["number"], 4, False)

    assert on_b.wait_for("call", lambda c: c == call) == call
    assert zone_on_b.wait_for("call", lambda c: c == call) == call
    # B's own API reads the same database: the ticket is called at window 4 there too.
    status = requests.get(f"{b.url}/api/v1/tickets/{ticket['token']}", timeout=DEADLINE).json()
    assert (status["status"], status["window"]) == ("called", 4)


def test_kiosks_on_both_processes_never_share_a_number(two_processes, pg_url):
    a, b = two_processes
    kiosks, per_kiosk = 8, 10

    def kiosk(k: int) -> list[str]:
        session = requests.Session()
        return [_take((a, b)[(k + i) % 2], "enterprise", session)["number"]
                for i in range(per_kiosk)]

    with ThreadPoolExecutor(kiosks) as pool:
        numbers = [n for batch in pool.map(kiosk, range(kiosks)) for n in batch]

    total = kiosks * per_kiosk
    assert sorted(numbers) == [f"B{i:03d}" for i in range(1, total + 1)]
    db = Database(pg_url)
    try:
        with db.read() as s:
            assert s.scalar(select(func.count(func.distinct(Ticket.number)))) == total
            assert s.scalar(select(func.count()).select_from(Ticket)) == total
    finally:
        db.dispose()


def test_screen_reconnecting_to_a_gets_the_same_snapshot(two_processes, screens):
    a, b = two_processes
    for _ in range(3):
        _take(b)
    _take(a, "social_security")
    clerk = _clerk(a, 4, "c01")
    calls = []
    for _ in range(2):
        reply = clerk.post(f"{a.url}/api/v1/windows/4/call-next", timeout=DEADLINE).json()
        calls.append(reply["call"])
        assert clerk.post(f"{a.url}/api/v1/windows/4/start", timeout=DEADLINE).status_code == 200
        assert clerk.post(f"{a.url}/api/v1/windows/4/finish", timeout=DEADLINE).status_code == 200
    clerk.post(f"{a.url}/api/v1/windows/4/call-next", timeout=DEADLINE)  # B003 now at window 4

    screen = screens("zone:front_intake")
    on_b = screen.connect(b)
    screen.disconnect()  # B goes away for this screen; it comes back through A
    on_a = screen.connect(a)

    assert _comparable(on_a) == _comparable(on_b)
    assert [c["ticket"] for c in on_a["calls"]] == ["B003", "B002", "B001"]
    assert on_a["calls"][1:] == calls[::-1]
    services = {s["code"]: s for s in on_a["queue"]["services"]}
    assert services["enterprise"]["waiting"] == 0 and services["social_security"]["waiting"] == 1
    window4 = next(w for w in on_a["queue"]["windows"] if w["number"] == 4)
    assert window4["state"] == "calling"
