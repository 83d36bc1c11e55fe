"""Screens over Socket.IO (Flask-SocketIO test client): snapshot on join, live calls, reconnect,
and who may join which room."""

from __future__ import annotations

import pytest

from tests.support.web import device_client, hall_app, received_until, staff_client


@pytest.fixture
def app(tmp_path, hall_config, clock):
    app = hall_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'h.db'}")
    yield app
    app.extensions["hall"].db.dispose()


def screen(app, room: str, browser=None):
    """A screen joined to ``room``: by default the hall's screen device (it covers every room
    but ``manager``)."""
    socketio = app.extensions["hall"].socketio
    client = socketio.test_client(app, flask_test_client=browser or device_client(app, "hall"))
    ack = client.emit("join", {"room": room}, callback=True)
    assert ack == {"ok": True, "room": room}
    return client


def events(client, name: str) -> list[dict]:
    return [e["args"][0] for e in client.get_received() if e["name"] == name]


def pushed(client, name: str) -> list[dict]:
    """The ``name`` pushes received once the first has come (the feed's pushes come from a
    background task, shortly after the change)."""
    return [e["args"][0] for e in received_until(client, name) if e["name"] == name]


def clerk(app, window: int, clerk_id: str):
    c = app.test_client()
    assert c.post(f"/api/v1/windows/{window}/login",
                  json={"clerk": clerk_id, "pin": "1234"}).status_code == 200
    return c


def test_join_gives_snapshot_then_live_calls(app):
    kiosk = app.test_client()
    hall_screen = screen(app, "hall")
    zone_screen = screen(app, "zone:front_intake")
    other_zone = screen(app, "zone:public_affairs")
    window_screen = screen(app, "window:4")
    snap = events(hall_screen, "snapshot")[0]
    assert snap["calls"] == [] and {s["code"] for s in snap["queue"]["services"]} >= {"enterprise"}
    for c in (zone_screen, other_zone, window_screen):
        c.get_received()

    kiosk.post("/api/v1/tickets", json={"service": "enterprise"})
    queue_events = pushed(hall_screen, "queue")
    enterprise = next(s for s in queue_events[-1]["services"] if s["code"] == "enterprise")
    assert enterprise["waiting"] == 1

    clerk(app, 4, "c01").post("/api/v1/windows/4/call-next")
    for c in (hall_screen, zone_screen, window_screen):
        calls = events(c, "call")
        assert [(x["ticket"], x["window"], x["recall"]) for x in calls] == [("B001", 4, False)]
    assert events(other_zone, "call") == []


def test_recall_is_pushed_as_recall(app):
    app.test_client().post("/api/v1/tickets", json={"service": "enterprise"})
    c = clerk(app, 4, "c01")
    c.post("/api/v1/windows/4/call-next")
    s = screen(app, "hall")
    s.get_received()
    c.post("/api/v1/windows/4/recall")
    calls = events(s, "call")
    assert len(calls) == 1 and calls[0]["recall"] is True


def test_reconnecting_screen_gets_what_it_missed(app):
    s = screen(app, "zone:front_intake")
    s.disconnect()
    kiosk = app.test_client()
    for _ in range(3):
        kiosk.post("/api/v1/tickets", json={"service": "enterprise"})
    c = clerk(app, 4, "c01")
    for _ in range(2):
        c.post("/api/v1/windows/4/call-next")
        c.post("/api/v1/windows/4/start")
        c.post("/api/v1/windows/4/finish")
    again = screen(app, "zone:front_intake")
    snap = events(again, "snapshot")[0]
    assert [x["ticket"] for x in snap["calls"]] == ["B002", "B001"]
    assert snap["calls"][0]["seq"] > snap["calls"][1]["seq"]
    enterprise = next(x for x in snap["queue"]["services"] if x["code"] == "enterprise")
    assert enterprise["waiting"] == 1


def test_bad_room_is_refused(app):
    client = app.extensions["hall"].socketio.test_client(app)
    assert client.emit("join", {"room": "../etc"}, callback=True)["error"] == "invalid_room"
    assert client.emit("join", "hall", callback=True)["error"] == "invalid_room"
    assert client.get_received() == []


def test_public_rooms_show_no_staff_login(app):
    """``hall`` and ``zone:<code>`` are open to anyone: ticket numbers and counts only."""
    clerk(app, 4, "c01")
    anyone = screen(app, "hall", app.test_client())
    manager = screen(app, "manager", staff_client(app, "manager"))
    [public] = [e["args"][0] for e in anyone.get_received() if e["name"] == "snapshot"]
    [full] = [e["args"][0] for e in manager.get_received() if e["name"] == "snapshot"]
    assert "clerk" not in public["queue"]["windows"][3]
    assert full["queue"]["windows"][3]["clerk"] == "c01"
    app.test_client().post("/api/v1/tickets", json={"service": "enterprise"})
    [public_push] = pushed(anyone, "queue")
    assert all("clerk" not in w for w in public_push["windows"])
    assert pushed(manager, "queue")[0]["windows"][3]["clerk"] == "c01"
