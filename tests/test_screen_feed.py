"""The hall's feed (``displays.feed``): queue pushes coalesced off the request path, calls at
once and first, and joins served from a cache that holds every committed change
(Flask-SocketIO test clients, SQLite)."""

from __future__ import annotations

import dataclasses
import time
import tomllib

import pytest
from sqlalchemy import event

from displays.feed import snapshot_for
from tests.conftest import ROOT
from tests.support.web import hall_app, received_until, staff_client, window_client

PUSH_SECONDS = 0.5


@pytest.fixture
def app(tmp_path, hall_config, clock):
    """The demo hall with a long push interval, so a burst's pushes are easy to count."""
    raw = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    raw["server"]["push_seconds"] = PUSH_SECONDS
    config = dataclasses.replace(hall_config, raw=raw)
    app = hall_app(config, clock=clock, database_url=f"sqlite:///{tmp_path / 'h.db'}")
    yield app
    time.sleep(2 * PUSH_SECONDS)  # a push still due goes out before the database does
    app.extensions["hall"].db.dispose()


def join(app, room: str, browser=None):
    client = app.extensions["hall"].socketio.test_client(app, flask_test_client=browser)
    assert client.emit("join", {"room": room}, callback=True) == {"ok": True, "room": room}
    return client


def payloads(events: list[dict], name: str) -> list[dict]:
    return [e["args"][0] for e in events if e["name"] == name]


def untimed(snapshot: dict) -> dict:
    """A snapshot without the instants it was served and its queue read."""
    return {**snapshot, "at": None, "queue": {**snapshot["queue"], "at": None}}


def waiting(queue: dict, service: str = "enterprise") -> int:
    return next(s["waiting"] for s in queue["services"] if s["code"] == service)


def test_a_burst_of_tickets_gives_few_pushes_the_last_one_the_final_state(app):
    screen = join(app, "hall")
    screen.get_received()
    kiosk = app.test_client()
    tickets = 30
    started = time.monotonic()
    for _ in range(tickets):
        assert kiosk.post("/api/v1/tickets", json={"service": "enterprise"}).status_code == 201
    took = time.monotonic() - started
    pushes = payloads(received_until(screen, "queue", lambda q: waiting(q) == tickets), "queue")
    time.sleep(2 * PUSH_SECONDS)
    pushes += payloads(screen.get_received(), "queue")
    # At most one push per interval (the first at once), however many tickets came.
    assert len(pushes) <= 2 + took / PUSH_SECONDS, (len(pushes), took)
    assert len(pushes) < tickets / 3
    # The last push is the committed state now, exactly as the API reads it.
    now = app.test_client().get("/api/v1/queue").json
    assert {**pushes[-1], "at": None} == {**now, "at": None}
    assert [waiting(q) for q in pushes] == sorted(waiting(q) for q in pushes)


def test_a_call_goes_out_at_once_and_before_the_queue_push_of_its_change(app):
    app.test_client().post("/api/v1/tickets", json={"service": "enterprise"})
    screen = join(app, "zone:front_intake")
    clerk = window_client(app, 4, "c01")
    time.sleep(2 * PUSH_SECONDS)  # the login's push done, long past: this change's may go at once
    screen.get_received()
    call = clerk.post("/api/v1/windows/4/call-next").json["call"]
    at_once = screen.get_received()  # when the clerk has the answer, the screens have the call
    assert payloads(at_once, "call") == [call]
    got = at_once
    if not any(waiting(q) == 0 for q in payloads(at_once, "queue")):
        got += received_until(screen, "queue", lambda q: waiting(q) == 0)
    names = [e["name"] for e in got]
    assert names.index("call") < names.index("queue")


def test_joins_are_served_from_the_cache_without_reading_the_database(app):
    hall = app.extensions["hall"]
    kiosk = app.test_client()
    kiosk.post("/api/v1/tickets", json={"service": "enterprise"})
    first = join(app, "hall")
    [before] = payloads(first.get_received(), "snapshot")
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(hall.db.engine, "before_cursor_execute", count)
    try:
        for _ in range(20):
            [snapshot] = payloads(join(app, "hall").get_received(), "snapshot")
            assert {**snapshot, "at": None} == {**before, "at": None}
        assert statements == []

        kiosk.post("/api/v1/tickets", json={"service": "enterprise"})
        received_until(first, "queue", lambda q: waiting(q) == 2)  # the feed refreshed
        statements.clear()
        for _ in range(20):
            [snapshot] = payloads(join(app, "hall").get_received(), "snapshot")
            assert waiting(snapshot["queue"]) == 2
        assert statements == []  # the queue as the feed's refresh read it for its push

        clerk = window_client(app, 4, "c01")
        call = clerk.post("/api/v1/windows/4/call-next").json["call"]
        received_until(first, "queue", lambda q: waiting(q) == 1)
        statements.clear()
        for _ in range(20):
            [snapshot] = payloads(join(app, "hall").get_received(), "snapshot")
            assert snapshot["calls"] == [call]
        # The room's recent calls and missed numbers: read once after the call, not per join.
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2
    finally:
        event.remove(hall.db.engine, "before_cursor_execute", count)


def test_a_join_right_after_a_change_includes_it(app):
    """No waiting for the push: the join waits for the refresh that holds the change."""
    kiosk = app.test_client()
    clerk = window_client(app, 4, "c01")
    join(app, "hall")
    for _ in range(3):
        kiosk.post("/api/v1/tickets", json={"service": "enterprise"})
        call = clerk.post("/api/v1/windows/4/call-next").json["call"]
        [snapshot] = payloads(join(app, "zone:front_intake").get_received(), "snapshot")
        assert snapshot["calls"][0] == call
        clerk.post("/api/v1/windows/4/start")
        clerk.post("/api/v1/windows/4/finish")


@pytest.mark.parametrize("room", ["hall", "manager", "zone:front_intake", "window:4"])
def test_cached_snapshots_equal_those_read_from_the_database(app, room):
    hall = app.extensions["hall"]
    kiosk = app.test_client()
    clerk = window_client(app, 4, "c01")
    for _ in range(4):
        kiosk.post("/api/v1/tickets", json={"service": "enterprise"})
    clerk.post("/api/v1/windows/4/call-next")
    for _ in range(hall.config.queue.no_show_after_recalls):
        clerk.post("/api/v1/windows/4/recall", json={})
    clerk.post("/api/v1/windows/4/no-show", json={})  # a missed number
    clerk.post("/api/v1/windows/4/call-next")
    browser = {"window:4": window_client(app, 4, "c01"),
               "manager": staff_client(app, "manager")}.get(room)
    [cached] = payloads(join(app, room, browser).get_received(), "snapshot")
    direct = snapshot_for(room, hall.db, hall.config, hall.clock)
    assert cached["calls"] and untimed(cached) == untimed(direct)
    assert (room == "window:4") or cached["missed"]


def test_a_feed_whose_database_is_gone_backs_off_and_logs_once(tmp_path, hall_config, clock,
                                                               caplog):
    """A database that does not answer is tried again at growing gaps (not ten times a
    second, each with a traceback); the first success resets the gap."""
    from displays.feed import HallFeed

    app = hall_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'h.db'}")
    context = app.extensions["hall"]
    feed = HallFeed(context.socketio, context.db, context.config, clock, interval=0.05)
    tries: list[float] = []
    refresh = feed._refresh

    def failing(*args):
        tries.append(time.monotonic())
        raise RuntimeError("database away")

    feed._refresh = failing
    feed.changed({"queue"})
    time.sleep(1.6)  # at a fixed 0.05 s: 32 tries; backing off: 0.1, 0.2, 0.4, 0.8 s gaps
    assert 3 <= len(tries) <= 6
    logged = [r for r in caplog.records if "screens failed" in r.getMessage()]
    assert len(logged) == 1
    feed._refresh = refresh
    deadline = time.monotonic() + 35
    while feed._failures and time.monotonic() < deadline:
        time.sleep(0.05)
    assert feed._failures == 0 and feed._gap() == 0.05
    context.db.dispose()
