"""Proof that a call reached the hall, with real Socket.IO clients (Flask-SocketIO test client):
screens report each call shown and spoken, the window's console gets the counts live, a
screen that drops its reports counts as not shown, re-announcing is audited, and a screen
silent for more than 30 s is an alert on the manager's dashboard (step clock). SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, select

from displays.screens import Publisher
from hall_ops.screens.models import CallAnnouncement, CallReceipt
from hall_ops.staff import devices
from hall_web.jobs import ScreenWatch
from tests.support.web import CHEAP, device_client, hall_app, staff_client, window_client


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request, tmp_path, hall_config, clock):
    """On both databases: the receipts and presence are upserts in each one's dialect."""
    url = (f"sqlite:///{tmp_path / 'h.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    app = hall_app(hall_config, clock=clock, database_url=url)
    yield app
    time.sleep(2 * Publisher.REACH_EVERY)  # a count still due is pushed before the database goes
    app.extensions["hall"].db.dispose()


def joined(app, room: str, browser):
    client = app.extensions["hall"].socketio.test_client(app, flask_test_client=browser)
    assert client.emit("join", {"room": room}, callback=True) == {"ok": True, "room": room}
    client.get_received()
    return client


def received(client, name: str) -> list[dict]:
    return [e["args"][0] for e in client.get_received() if e["name"] == name]


def latest_reach(console, **expected: object) -> dict:
    """The console's latest ``reach`` once it says ``expected`` (reports are counted and
    pushed together, within ``Publisher.REACH_EVERY``)."""
    deadline = time.monotonic() + 5
    latest: dict = {}
    while time.monotonic() < deadline:
        pushed = received(console, "reach")
        latest = pushed[-1] if pushed else latest
        if latest and all(latest[k] == v for k, v in expected.items()):
            return latest
        time.sleep(0.05)
    raise AssertionError(f"no reach with {expected}; last {latest}")


def report(screen, call: dict, stage: str) -> dict:
    return screen.emit("receipt", {"call": call["seq"], "repeat": call.get("repeat"),
                                   "stage": stage}, callback=True)


@pytest.fixture
def floor(app):
    """The hall's screen, the front intake zone's screen, the public affairs zone's screen,
    and window 4 (front intake) with its clerk's console joined to ``window:4``."""
    hall_screen = joined(app, "hall", device_client(app, "hall"))
    zone_screen = joined(app, "zone:front_intake", device_client(app, "zone:front_intake"))
    other_zone = joined(app, "zone:public_affairs", device_client(app, "zone:public_affairs"))
    clerk = window_client(app, 4, "c01")
    console = joined(app, "window:4", clerk)
    app.test_client().post("/api/v1/tickets", json={"service": "enterprise"})
    return hall_screen, zone_screen, other_zone, clerk, console


def test_console_counts_what_the_screens_reported(app, floor):
    hall_screen, zone_screen, other_zone, clerk, console = floor
    clerk.post("/api/v1/windows/4/call-next")
    [call] = received(hall_screen, "call")
    assert received(zone_screen, "call") == [call] and received(other_zone, "call") == []
    [reach] = received(console, "reach")
    # The hall's and the front intake zone's screens count; public affairs does not show it.
    assert (reach["call"], reach["ticket"], reach["expected"], reach["shown"],
            reach["spoken"]) == (call["seq"], "B001", 2, 0, 0)

    assert report(hall_screen, call, "shown") == {"ok": True}
    latest_reach(console, shown=1)
    assert report(hall_screen, call, "spoken") == {"ok": True}
    assert report(hall_screen, call, "spoken") == {"ok": True}  # a second report changes nothing
    # The zone screen drops its acknowledgements: it counts as neither shown nor spoken.
    latest = latest_reach(console, spoken=1)
    time.sleep(0.4)
    assert received(console, "reach") == []  # counted once after the last report
    assert (latest["expected"], latest["shown"], latest["spoken"]) == (2, 1, 1)
    by_name = {s["name"]: (s["shown"], s["spoken"]) for s in latest["screens"]}
    assert by_name == {"大厅总屏": (True, True), "前台受理区屏": (False, False)}
    assert clerk.get("/api/v1/windows/4/reach").json == latest
    assert staff_client(app, "manager").get("/api/v1/windows/4/reach").json == latest

    with app.extensions["hall"].db.read() as s:
        rows = s.scalars(select(CallReceipt)).all()
    assert [(r.call_id, r.announcement, r.shown_at is not None, r.spoken_at is not None)
            for r in rows] == [(call["seq"], 0, True, True)]


def test_many_screens_reporting_at_once_are_stored_together(app, floor):
    """Reports are written in batches (``[server] report_seconds``), and a screen is answered
    ``ok`` only once its report is stored."""
    hall_screen, zone_screen, other_zone, clerk, console = floor
    hall = app.extensions["hall"]
    with hall.db.write() as s:
        tokens = [devices.issue_device(s, "test", "screen", f"屏{i}", "hall", hall.clock(),
                                       CHEAP)[1] for i in range(20)]
    screens = [hall_screen, zone_screen]
    for token in tokens:
        browser = app.test_client()
        assert browser.get(devices.device_link("screen", "hall", token)).status_code == 302
        screens.append(joined(app, "hall", browser))
    clerk.post("/api/v1/windows/4/call-next")
    [call] = received(hall_screen, "call")
    assert received(console, "reach")[-1]["expected"] == len(screens) == 22

    inserts: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO CALL_RECEIPTS"):
            inserts.append(statement)

    def both_stages(screen) -> list[dict]:
        return [report(screen, call, stage) for stage in ("shown", "spoken")]

    event.listen(hall.db.engine, "before_cursor_execute", count)
    try:
        with ThreadPoolExecutor(len(screens)) as pool:
            answers = list(pool.map(both_stages, screens))
    finally:
        event.remove(hall.db.engine, "before_cursor_execute", count)
    assert answers == [[{"ok": True}] * 2] * len(screens)
    # Stored when answered: every screen's row is there, shown and spoken.
    with hall.db.read() as s:
        rows = s.scalars(select(CallReceipt).where(CallReceipt.call_id == call["seq"])).all()
    assert len(rows) == 22 and all(r.shown_at and r.spoken_at for r in rows)
    assert 1 <= len(inserts) <= 11  # 44 reports, a handful of transactions
    latest = latest_reach(console, shown=22, spoken=22)
    assert latest["expected"] == 22
    assert clerk.get("/api/v1/windows/4/reach").json == latest


def test_only_a_screen_showing_the_call_may_report_it(app, floor):
    hall_screen, zone_screen, other_zone, clerk, console = floor
    clerk.post("/api/v1/windows/4/call-next")
    [call] = received(hall_screen, "call")
    assert report(other_zone, call, "shown")["error"] == "not_this_screen"
    anyone = joined(app, "hall", app.test_client())  # the page without a device link
    assert report(anyone, call, "shown")["error"] == "forbidden"
    assert anyone.emit("heartbeat", {}, callback=True)["error"] == "forbidden"
    kiosk = joined(app, "hall", device_client(app, "hall", "kiosk"))
    assert report(kiosk, call, "shown")["error"] == "forbidden"
    for bad in ({"call": True, "stage": "shown"}, {"call": "1", "stage": "shown"},
                {"call": call["seq"], "stage": "heard"}, {"call": 2**40, "stage": "shown"},
                {"call": call["seq"], "repeat": -1, "stage": "shown"}, ["x"], None):
        assert hall_screen.emit("receipt", bad, callback=True)["error"] == "invalid_receipt"
    assert hall_screen.emit("receipt", {"call": 999999, "stage": "shown"},
                            callback=True)["error"] == "unknown_call"
    assert hall_screen.emit("receipt", {"call": call["seq"], "repeat": 5, "stage": "shown"},
                            callback=True)["error"] == "unknown_announcement"
    time.sleep(0.4)
    assert all(r["shown"] == 0 for r in received(console, "reach"))


def test_reannounce_shows_and_speaks_again_and_is_audited(app, floor):
    hall_screen, zone_screen, other_zone, clerk, console = floor
    assert clerk.post("/api/v1/windows/4/reannounce", json={}).json["error"] == \
        "nothing_to_announce"
    clerk.post("/api/v1/windows/4/call-next")
    [call] = received(hall_screen, "call")
    zone_screen.get_received()
    report(hall_screen, call, "shown")
    report(zone_screen, call, "shown")
    assert clerk.post("/api/v1/windows/4/reannounce",
                      json={"ticket": "B001", "actor": "someone"}).status_code == 422
    answer = clerk.post("/api/v1/windows/4/reannounce", json={"ticket": "B001"})
    assert answer.status_code == 200
    [again] = received(hall_screen, "call")
    assert received(zone_screen, "call") == [again]
    assert again["seq"] == call["seq"] and again["repeat"] and again["recall"] is False
    # Counting starts over for the re-announcement.
    assert (answer.json["repeat"], answer.json["shown"], answer.json["expected"]) == \
        (again["repeat"], 0, 2)
    report(zone_screen, again, "shown")
    report(zone_screen, again, "spoken")
    latest_reach(console, repeat=again["repeat"], shown=1, spoken=1)
    ticket = clerk.get("/api/v1/windows/4").json["ticket"]
    assert ticket["recalls"] == 0  # not a recall
    with app.extensions["hall"].db.read() as s:
        [audit] = s.scalars(select(CallAnnouncement)).all()
    assert (audit.call_id, audit.window_number, audit.actor) == (call["seq"], 4, "c01")
    assert window_client(app, 5, "c02").post("/api/v1/windows/4/reannounce",
                                             json={}).status_code == 403


def test_a_screen_silent_for_30_seconds_is_an_alert(app, clock, floor):
    hall_screen, zone_screen, other_zone, clerk, console = floor
    manager = staff_client(app, "manager")

    def screen_alerts() -> list[dict]:
        alerts = manager.get("/api/v1/dashboard/alerts").json["alerts"]
        return [a for a in alerts if a["kind"] == "screen"]

    assert screen_alerts() == []
    silent_since = clock.now
    clock.advance(seconds=25)
    for screen in (hall_screen, other_zone):
        assert screen.emit("heartbeat", {}, callback=True) == {"ok": True}
    assert screen_alerts() == []
    clock.advance(seconds=6)  # the zone screen: 31 s without a word
    [alert] = screen_alerts()
    assert (alert["screen"], alert["scope"], alert["severity"]) == \
        ("前台受理区屏", "zone:front_intake", "critical")
    assert alert["since"].startswith(silent_since.isoformat(timespec="seconds")[:16])
    dashboard = manager.get("/api/v1/dashboard").json
    assert [a["screen"] for a in dashboard["alerts"] if a["kind"] == "screen"] == ["前台受理区屏"]
    # It speaks again (a report counts as a sign of life): the alert is gone.
    assert zone_screen.emit("heartbeat", {}, callback=True) == {"ok": True}
    assert screen_alerts() == []
    clock.advance(seconds=40)
    assert {a["screen"] for a in screen_alerts()} == {"大厅总屏", "前台受理区屏", "公共事务区屏"}


def test_the_manager_page_hears_of_a_silent_screen_at_once(app, clock, floor):
    """The scheduler's screen watch (every 10 s) pushes the alerts when the set of silent
    screens changes, and only then."""
    hall_screen, zone_screen, other_zone, clerk, console = floor
    manager = joined(app, "manager", staff_client(app, "manager"))
    watch = ScreenWatch(app.extensions["hall"])
    watch()
    assert received(manager, "alerts") == []
    clock.advance(seconds=31)
    for screen in (hall_screen, other_zone):
        screen.emit("heartbeat", {}, callback=True)
    watch()
    [push] = received(manager, "alerts")
    assert [a["screen"] for a in push["alerts"] if a["kind"] == "screen"] == ["前台受理区屏"]
    watch()
    assert received(manager, "alerts") == []  # nothing changed: nothing pushed
    zone_screen.emit("heartbeat", {}, callback=True)
    watch()
    [push] = received(manager, "alerts")
    assert [a for a in push["alerts"] if a["kind"] == "screen"] == []


def page_words(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="hall-page">(.*?)</script>', html, re.S)
    assert block
    return json.loads(block.group(1))["words"]


def test_the_screen_and_console_words_in_chinese_and_english(app):
    screen = device_client(app, "hall")
    zh, en = (screen.get(f"/screen{q}").get_data(as_text=True) for q in ("", "?lang=en"))
    assert "点击启用声音" in zh and "保持静音" in zh and 'class="sound-overlay"' not in zh
    assert "Click to enable sound" in en and "Keep silent" in en
    clerk = app.test_client()
    zh, en = (clerk.get(f"/clerk{q}").get_data(as_text=True) for q in ("", "?lang=en"))
    assert "重新播报" in zh and "Re-announce" in en
    sentence = "Shown on %(shown)s/%(expected)s screens, spoken on %(spoken)s"
    assert page_words(zh)[sentence] == "已显示 %(shown)s/%(expected)s 块屏幕，已播报 %(spoken)s"
    assert page_words(en)[sentence] == sentence
    manager = staff_client(app, "manager")
    words = page_words(manager.get("/manager/dashboard").get_data(as_text=True))
    assert words["Screen %(s)s (%(w)s) silent since %(at)s"] == \
        "屏幕 %(s)s（%(w)s）自 %(at)s 起无响应"
