"""Manager dashboard and reports through the Flask and Socket.IO test clients: workload proposals
(computed, applied, audited), auto mode and its limits, occupancy and alerts from real simulated
cameras, overdue cases, and the pages in both languages."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from displays.manager import push_camera_update
from hall_ops.config import ConfigError, DashboardConfig, HallConfig, parse_config
from hall_ops.floor.models import WorkloadAuto, WorkloadChange
from hall_ops.queue.models import Window
from hall_web.jobs import push_workload
from sensors.config import parse_cameras
from sensors.poller import CameraPool, poll_cameras
from sensors.simulator import CameraSimulator
from tests.conftest import OPEN_NOW, StepClock
from tests.support.server import ROOT, free_port
from tests.support.web import device_client, hall_app, received_until, staff_client
from zones.occupancy import occupancy_trends
from zones.skills import window_skills

FRONT_INTAKE_WINDOWS = set(range(1, 14))


def raw_config(**sections: Any) -> dict[str, Any]:
    raw = tomllib.loads((ROOT / "config.toml").read_text())
    # These tests move the hall's clock by hours and days: sessions must not expire meanwhile.
    raw["security"] = {"idle_minutes": 7 * 24 * 60, "window_idle_minutes": 7 * 24 * 60}
    raw.update(sections)
    return raw


def make_app(tmp_path: Path, clock: StepClock, raw: dict[str, Any] | None = None,
             database_url: str | None = None):
    hall = parse_config(raw or raw_config(), ROOT)
    return hall_app(hall, clock=clock,
                    database_url=database_url or f"sqlite:///{tmp_path / 'h.db'}")


def manager(app):
    """The demo manager, logged in: every dashboard, workload and report call is theirs."""
    return staff_client(app, "manager")


def manager_socket(app):
    """The dashboard's live connection, joined to the ``manager`` room as the manager."""
    socket = app.extensions["hall"].socketio.test_client(app, flask_test_client=manager(app))
    assert socket.emit("join", {"room": "manager"}, callback=True) == {"ok": True,
                                                                       "room": "manager"}
    return socket


@pytest.fixture
def app(tmp_path, clock):
    app = make_app(tmp_path, clock)
    yield app
    app.extensions["hall"].db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_app(request, tmp_path, clock):
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    app = make_app(tmp_path, clock, database_url=url)
    yield app
    app.extensions["hall"].db.dispose()


def roster_app(tmp_path: Path, clock: StepClock, clerks: set[str]):
    """A hall whose roster is just ``clerks``: no spare clerk, so no "open a window" proposals."""
    raw = raw_config()
    raw["clerks"] = [c for c in raw["clerks"] if c["id"] in clerks]
    return make_app(tmp_path, clock, raw)


def log_in(app, window: int, clerk: str):
    client = app.test_client()  # logs in at the window below
    response = client.post(f"/api/v1/windows/{window}/login", json={"clerk": clerk, "pin": "1234"})
    assert response.status_code == 200, response.json
    return client


def take(app, clock: StepClock, service: str, count: int, every_minutes: float = 1.0) -> None:
    kiosk = app.test_client()  # a citizen's ticket
    for _ in range(count):
        assert kiosk.post("/api/v1/tickets", json={"service": service}).status_code == 201
        clock.advance(minutes=every_minutes)


def services_of(app, number: int) -> list[str]:
    with app.extensions["hall"].db.read() as s:
        return s.get(Window, number).service_codes


def received(socket, name: str) -> list[dict]:
    """Events of that name among those received since the last call (it drains them all)."""
    return [e["args"][0] for e in socket.get_received() if e["name"] == name]


def events(socket, until: str | None = None) -> dict[str, list[dict]]:
    """Events received since the last call, by name; ``until``: once a push of that name came
    (the hall's ``queue`` pushes come from a background task, shortly after the change)."""
    out: dict[str, list[dict]] = {}
    for e in received_until(socket, until) if until else socket.get_received():
        out.setdefault(e["name"], []).append(e["args"][0])
    return out


def overloaded_investment(app, clock) -> None:
    """Window 1 alone serves investment; windows 4 and 5 (enterprise) idle; 30 people in 30 min."""
    log_in(app, 1, "c01")
    log_in(app, 4, "c04")
    log_in(app, 5, "c05")
    take(app, clock, "investment", 30)


# ---------------------------------------------------------------- config


def test_dashboard_config(hall_config, tmp_path):
    def config(**section: Any) -> DashboardConfig:
        return parse_config(raw_config(dashboard=section), ROOT).dashboard

    assert hall_config.dashboard.queue_alert == 15
    assert config(queue_alert=8, chart_hours=1.5) == DashboardConfig(8, 1.5, 60)
    for bad in ({"queue_alert": 0}, {"queue_alert": "15"}, {"queue_alert": True},
                {"chart_hours": 48}, {"workload_seconds": 1}, {"queue_alerts": 15}):
        with pytest.raises(ConfigError, match=r"\[dashboard\]"):
            config(**bad)
    with pytest.raises(ConfigError):
        make_app(tmp_path, StepClock(), raw_config(dashboard={"queue_alert": -1}))


def test_window_skills_keep_delivery_windows_to_delivery(hall_config: HallConfig):
    skills = window_skills(hall_config.windows)
    assert skills[14] == frozenset({"delivery"})
    assert skills[1] == frozenset({"investment", "enterprise", "real_estate", "non_resident"})
    assert "notary" in skills[16] and "investment" not in skills[16]


# ---------------------------------------------------------------- proposals


def test_proposals_appear_when_one_service_is_overloaded(app, clock):
    client = manager(app)
    log_in(app, 1, "c01")
    log_in(app, 4, "c04")
    log_in(app, 5, "c05")
    assert client.get("/api/v1/workload/proposals").json["proposals"] == []

    take(app, clock, "investment", 30)
    proposals = client.get("/api/v1/workload/proposals").json["proposals"]
    assert proposals, "30 people for one investment window and no proposal"
    first = proposals[0]
    assert "investment" in first["to_services"]
    assert first["after"]["investment"] < first["before"]["investment"]
    assert first["kind"] == "assign" and first["automatic"] is True
    assert "预计等候" in first["reason_zh"] and "predicted wait" in first["reason_en"]
    assert len({p["id"] for p in proposals}) == len(proposals)
    # Only windows that may take investment: never the delivery windows 14 and 15.
    assert {p["window"] for p in proposals} <= FRONT_INTAKE_WINDOWS
    # The same state gives the same ids (an id names the change, not a moment).
    assert [p["id"] for p in client.get("/api/v1/workload/proposals").json["proposals"]] == \
        [p["id"] for p in proposals]


def test_apply_by_id_rewrites_the_windows_services_and_is_audited(app, clock):
    overloaded_investment(app, clock)
    socketio = app.extensions["hall"].socketio
    manager_room = manager_socket(app)
    clerk_screen = socketio.test_client(app, flask_test_client=device_client(app, "hall"))
    client = manager(app)
    first = client.get("/api/v1/workload/proposals").json["proposals"][0]
    number = first["window"]
    clerk_screen.emit("join", {"room": f"window:{number}"})
    manager_room.get_received()
    clerk_screen.get_received()

    response = client.post("/api/v1/workload/proposals/apply", json={"id": first["id"]})
    assert response.status_code == 200, response.json
    applied = response.json["applied"]
    assert applied["window"] == number and applied["actor"] == "manager"
    assert applied["to_services"] == first["to_services"]
    assert services_of(app, number) == first["to_services"]
    assert first["id"] not in {p["id"] for p in response.json["proposals"]}

    # Pushed: the queue (with the new assignment) and the change to the manager room,
    # and the window's own view to its clerk console.
    pushed = events(manager_room, until="queue")
    assert pushed["queue"][-1]["windows"][number - 1]["services"] == first["to_services"]
    assert pushed["workload"][0]["applied"][0]["window"] == number
    assert first["id"] not in {p["id"] for p in pushed["proposals"][-1]["proposals"]}
    assert received(clerk_screen, "window")[-1]["services"] == first["to_services"]

    changes = client.get("/api/v1/workload/changes").json["changes"]
    assert len(changes) == 1
    change = changes[0]
    assert (change["actor"], change["kind"], change["window"]) == ("manager", "assign", number)
    assert change["origin"] == "127.0.0.1"
    assert change["record"]["predicted_wait_after"]["investment"] < \
        change["record"]["predicted_wait_before"]["investment"]

    stale = client.post("/api/v1/workload/proposals/apply", json={"id": first["id"]})
    assert stale.status_code == 409 and stale.json["error"] == "stale_proposal"
    manager_room.disconnect()
    clerk_screen.disconnect()


def test_applied_assignment_changes_what_the_clerk_calls(app, clock):
    log_in(app, 1, "c01")
    enterprise_clerk = log_in(app, 4, "c04")
    take(app, clock, "investment", 30)
    client = manager(app)
    proposal = next(p for p in client.get("/api/v1/workload/proposals").json["proposals"]
                    if p["window"] == 4)
    assert client.post("/api/v1/workload/proposals/apply",
                       json={"id": proposal["id"]}).status_code == 200
    called = enterprise_clerk.post("/api/v1/windows/4/call-next").json
    assert called["ticket"]["number"].startswith("A")  # an investment ticket


def test_apply_with_the_proposal_body(app, clock):
    overloaded_investment(app, clock)
    client = manager(app)
    proposal = client.get("/api/v1/workload/proposals").json["proposals"][0]
    body = {k: v for k, v in proposal.items() if k not in ("id", "automatic")}
    response = client.post("/api/v1/workload/proposals/apply", json={"proposal": body})
    assert response.status_code == 200, response.json
    assert services_of(app, proposal["window"]) == proposal["to_services"]
    # The same body again was made against services the window no longer has.
    again = client.post("/api/v1/workload/proposals/apply", json=body)
    assert again.status_code == 409 and again.json["error"] == "stale_proposal"


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"kind": "swap"}, 422, "invalid_field"),
        ({"window": "four"}, 422, "invalid_field"),
        ({"to_services": "investment"}, 422, "invalid_field"),
        ({"to_services": []}, 422, "no_services"),
        ({"to_services": ["notary"]}, 422, "not_in_skills"),
        ({"before": {"investment": "long"}}, 422, "invalid_field"),
        ({"window": 99}, 404, "unknown_window"),
        ({"kind": "move"}, 422, "invalid_field"),  # a move names the clerk's window
    ],
)
def test_bad_proposal_bodies_are_refused(app, change, status, error):
    log_in(app, 4, "c04")
    body = {"kind": "assign", "window": 4, "from_services": ["enterprise"],
            "to_services": ["enterprise", "investment"], "before": {}, "after": {}, **change}
    response = manager(app).post("/api/v1/workload/proposals/apply", json=body)
    assert (response.status_code, response.json["error"]) == (status, error)
    assert services_of(app, 4) == ["enterprise"]


def test_unknown_proposal_id_is_stale(app):
    response = manager(app).post("/api/v1/workload/proposals/apply", json={"id": "nope"})
    assert response.status_code == 409 and response.json["error"] == "stale_proposal"
    response = manager(app).post("/api/v1/workload/proposals/apply", data="[1]",
                                      content_type="application/json")
    assert response.status_code == 422


# ---------------------------------------------------------------- auto mode


def test_auto_settings_validate_persist_and_are_audited(app):
    client = manager(app)
    assert client.get("/api/v1/workload/auto").json == {
        "enabled": False, "min_windows_per_service": 1, "min_interval_minutes": 15.0,
        "last_change_at": None, "next_allowed_at": None,
    }
    for bad in ({"enabled": "yes"}, {"min_windows_per_service": -1},
                {"min_windows_per_service": 2.5}, {"min_interval_minutes": 0},
                {"min_interval_minutes": True}, {"interval": 5}):
        response = client.post("/api/v1/workload/auto", json=bad)
        assert response.status_code == 422, bad
    view = client.post("/api/v1/workload/auto",
                       json={"enabled": True, "min_interval_minutes": 30}).json
    assert (view["enabled"], view["min_windows_per_service"], view["min_interval_minutes"]) == \
        (True, 1, 30.0)
    assert client.get("/api/v1/workload/auto").json["enabled"] is True
    client.post("/api/v1/workload/auto", json={"enabled": True})  # no change, no audit row
    [change] = client.get("/api/v1/workload/changes").json["changes"]
    assert change["kind"] == "auto_mode" and change["window"] is None
    assert change["record"]["before"]["enabled"] is False
    assert change["record"]["after"]["min_interval_minutes"] == 30.0


def test_workload_tick_proposes_only_while_auto_mode_is_off(app, clock):
    overloaded_investment(app, clock)
    manager_room = manager_socket(app)
    manager_room.get_received()
    assert push_workload(app.extensions["hall"]) == []
    assert services_of(app, 4) == ["enterprise"] and services_of(app, 5) == ["enterprise"]
    pushed = events(manager_room)
    assert pushed["proposals"][0]["proposals"]
    assert pushed["proposals"][0]["auto"]["enabled"] is False
    alerts = pushed["alerts"][0]["alerts"]
    assert {"kind": "queue", "severity": "warning", "service": "investment", "waiting": 30,
            "threshold": 15} in alerts
    manager_room.disconnect()


def test_auto_mode_applies_only_reassignments(any_app, clock):
    app = any_app
    overloaded_investment(app, clock)
    client = manager(app)
    proposals = client.get("/api/v1/workload/proposals").json["proposals"]
    assert {p["kind"] for p in proposals} == {"assign", "open"}  # spare clerks could open one
    client.post("/api/v1/workload/auto", json={"enabled": True})

    applied = push_workload(app.extensions["hall"])
    reassigned = {p["window"] for p in proposals if p["kind"] == "assign"}
    assert {a["window"] for a in applied} == reassigned
    assert all(a["actor"] == "auto" and a["kind"] == "assign" for a in applied)
    for number in reassigned:
        assert "investment" in services_of(app, number)
    opened = next(p for p in proposals if p["kind"] == "open")
    with app.extensions["hall"].db.read() as s:
        assert s.get(Window, opened["window"]).state == "closed"
    changes = client.get("/api/v1/workload/changes").json["changes"]
    assert {(c["actor"], c["window"]) for c in changes if c["kind"] != "auto_mode"} == \
        {("auto", n) for n in reassigned}
    assert all(c["origin"] == "scheduler" for c in changes if c["actor"] == "auto")
    # The audit trail cannot be rewritten, not even by a direct UPDATE.
    with pytest.raises(DBAPIError, match="append-only"), app.extensions["hall"].db.write() as s:
        s.execute(update(WorkloadChange).values(actor="someone else"))


def test_auto_mode_waits_its_interval(tmp_path, clock):
    app = roster_app(tmp_path, clock, {"c01", "c04", "c05"})
    overloaded_investment(app, clock)
    hall = app.extensions["hall"]
    client = manager(app)
    client.post("/api/v1/workload/auto", json={"enabled": True, "min_interval_minutes": 15})
    assert push_workload(hall)

    take(app, clock, "real_estate", 20, every_minutes=0.05)  # nobody serves real estate
    clock.advance(minutes=1)
    waiting = client.get("/api/v1/workload/proposals").json
    assert any(p["kind"] == "assign" and "real_estate" in p["to_services"]
               for p in waiting["proposals"])
    assert waiting["auto"]["next_allowed_at"] is not None
    assert push_workload(hall) == []  # too soon after the last change

    clock.advance(minutes=15)
    applied = push_workload(hall)
    assert any("real_estate" in a["to_services"] for a in applied)
    hall.db.dispose()


def test_auto_mode_keeps_the_minimum_windows_per_service(tmp_path, clock):
    def proposals(minimum: int, path: Path) -> list[dict]:
        path.mkdir()
        app = roster_app(path, StepClock(), {"c01", "c04", "c05", "c06"})
        for window, clerk in ((1, "c01"), (4, "c04"), (5, "c05"), (6, "c06")):
            log_in(app, window, clerk)
        app_clock = app.extensions["hall"].clock
        client = manager(app)
        client.post("/api/v1/workload/auto", json={"min_windows_per_service": minimum})
        for i in range(40):  # investment floods in, enterprise trickles
            take(app, app_clock, "investment", 1)
            if i % 6 == 0:
                take(app, app_clock, "enterprise", 1, every_minutes=0)
        found = client.get("/api/v1/workload/proposals").json["proposals"]
        app.extensions["hall"].db.dispose()
        return found

    def drops_enterprise(found: list[dict]) -> bool:
        return any("enterprise" in p["from_services"] and "enterprise" not in p["to_services"]
                   for p in found)

    # With one enterprise window required, the planner gives a whole window to investment …
    assert drops_enterprise(proposals(1, tmp_path / "one"))
    # … with three required, all three keep enterprise (investment is added beside it).
    kept = proposals(3, tmp_path / "three")
    assert kept and not drops_enterprise(kept)


# ---------------------------------------------------------------- live figures


def test_dashboard_shows_cameras_estimates_and_alerts(tmp_path, clock):
    dead_port = free_port()
    with CameraSimulator("front_intake", user="admin", password="pw", name="cam-front",
                         clock=lambda: OPEN_NOW) as sim:
        raw = raw_config(dashboard={"queue_alert": 3})
        raw["cameras"] = [
            {"name": "cam-front", "zone": "front_intake", "host": "127.0.0.1", "port": sim.port,
             "user": "admin", "password": "pw"},
            {"name": "cam-dead", "zone": "public_affairs", "host": "127.0.0.1",
             "port": dead_port, "user": "admin", "password": "pw"},
        ]
        app = make_app(tmp_path, clock, raw)
        hall = app.extensions["hall"]
        client = manager(app)
        before = client.get("/api/v1/dashboard").json
        assert {c["camera"]: c["status"] for c in before["cameras"]} == \
            {"cam-front": "unknown", "cam-dead": "unknown"}

        take(app, clock, "notary", 3, every_minutes=0.1)
        pool = CameraPool(parse_cameras(raw, {z.code for z in hall.config.zones}), timeout=3,
                          clock=clock)
        try:
            readings = poll_cameras(hall.db, pool, clock())
            manager_room = manager_socket(app)
            manager_room.get_received()
            push_camera_update(hall.socketio, hall.db, hall.config, hall.clock(), readings)
            [pushed] = received(manager_room, "occupancy")
            manager_room.disconnect()
        finally:
            pool.close()

    state = client.get("/api/v1/dashboard").json
    zones = state["occupancy"]
    assert zones["front_intake"]["estimate"] is False and zones["front_intake"]["stale"] is False
    assert zones["front_intake"]["count"] > 50  # 10:00, the morning peak of the simulated crowd
    # The public-affairs camera never answered: its figure is the ticket estimate, stale.
    assert zones["public_affairs"]["estimate"] is True and zones["public_affairs"]["stale"] is True
    assert zones["public_affairs"]["count"] == 4  # 3 waiting tickets × 1.3 people
    assert zones["egov_experience"] == {**zones["egov_experience"], "estimate": True,
                                        "stale": False, "count": 0}
    cameras = {c["camera"]: c for c in state["cameras"]}
    assert cameras["cam-front"]["status"] == "online"
    assert cameras["cam-front"]["last_seen_at"].endswith("+00:00")
    assert cameras["cam-dead"]["status"] == "unreachable"
    assert cameras["cam-dead"]["last_seen_at"] is None
    kinds = {(a["kind"], a.get("service") or a.get("camera")) for a in state["alerts"]}
    assert kinds == {("unstaffed", "notary"), ("queue", "notary"), ("camera", "cam-dead")}

    assert pushed["zones"]["front_intake"]["count"] == zones["front_intake"]["count"]
    assert pushed["zones"]["front_intake"]["at"].endswith("+00:00")
    assert {c["camera"]: c["status"] for c in pushed["cameras"]} == \
        {"cam-front": "online", "cam-dead": "unreachable"}

    series = client.get("/api/v1/dashboard/occupancy?hours=1").json["zones"]
    assert [p["source"] for p in series["front_intake"]] == ["camera"]
    assert series["front_intake"][0]["count"] == zones["front_intake"]["count"]
    for bad in ("0", "25", "soon"):
        assert client.get(f"/api/v1/dashboard/occupancy?hours={bad}").status_code == 422
    hall.db.dispose()


def test_occupancy_trend_is_read_from_camera_counts(db):
    from sensors.models import OccupancySample

    now = OPEN_NOW
    with db.write() as s:
        for minutes_ago, count in ((14, 40), (7, 50), (0, 60)):
            at = now - dt.timedelta(minutes=minutes_ago)
            s.add(OccupancySample(zone_code="front_intake", camera_name="c", at=at, count=count,
                                  source="camera"))
            s.add(OccupancySample(zone_code="business", camera_name=None, at=at, count=count,
                                  source="estimate"))
        s.add(OccupancySample(zone_code="public_affairs", camera_name="p", at=now, count=5,
                              source="camera"))
    trends = occupancy_trends(db, ["front_intake", "business", "public_affairs"], now)
    # Estimates and a single count are no trend.
    assert trends == {"front_intake": pytest.approx(0.5)}


def test_overdue_cases_reach_the_dashboard(app, clock):
    from hall_ops import queue
    from hall_ops.cases import intake
    from hall_ops.cases.catalogue import load_catalogue

    hall = app.extensions["hall"]
    assert manager(app).get("/api/v1/dashboard").json["overdue"] == []
    now = clock()
    with hall.db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
        queue.open_window(s, 8, "c08", now)
        queue.take_ticket(s, hall.config, "real_estate", now, ignore_hours=True)
        ticket, _ = queue.call_next(s, hall.config, 8, "c08", now)
        queue.start_service(s, 8, "c08", now)
        case = intake.create_intake(
            s, intake.IntakeRules.from_config(hall.config), ticket_id=ticket.id, window_number=8,
            clerk_id="c08",
            applicant=intake.Applicant("person", "张三", "330106198507201239", "13800138000"),
            item_codes=["BDC-01", "BDC-05", "BDC-06"],
            received=["不动产登记申请书", "不动产权证书", "不动产买卖合同", "契税纳税申报表"],
            e_licences=["申请人身份证明"], now=now,
        )
        number = case.number
    clock.advance(days=2)  # Friday 27 Nov: the 0- and 1-day items are late
    state = manager(app).get("/api/v1/dashboard").json
    late = [w for w in state["overdue"] if w["overdue"]]
    assert {w["item"] for w in late} == {"BDC-05", "BDC-06"}
    assert all(w["case_number"] == number for w in late)
    assert {"kind": "overdue", "severity": "critical", "count": 2} in state["alerts"]


# ---------------------------------------------------------------- pages


PAGES = ["/manager/dashboard", "/manager/reports"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_speak_chinese_first_and_english_on_request(app, path):
    client = manager(app)
    zh = client.get(path).get_data(as_text=True)
    assert 'lang="zh-CN"' in zh and "市民中心行政服务大厅" in zh
    assert '"estimate": "估算"' in zh  # the scripts' words, from the one catalogue
    assert '"%(s)s: %(n)s waiting (alert at %(t)s)": "%(s)s：%(n)s 人等候（告警线 %(t)s 人）"' in zh
    assert '"paused": "暂停"' in zh  # the shared words come along
    assert f'href="{path}?lang=en"' in zh
    en_response = client.get(path + "?lang=en")
    en = en_response.get_data(as_text=True)
    assert 'lang="en"' in en and "Citizen Centre" in en
    assert '"estimate": "estimate"' in en
    for zh_word in ("实时看板", "统计报表", "估算", "告警", "窗口调配建议", "按工作人员", "导出"):
        assert zh_word not in en, zh_word
    assert "lang=en" in en_response.headers.get("Set-Cookie", "")
    # Everything from the hall's own server: no CDN.
    assert not re.search(r'(src|href)="(https?:)?//', zh)


def test_dashboard_page_shows_its_sections(app):
    html = manager(app).get("/manager/dashboard").get_data(as_text=True)
    assert "<title>实时看板 · " in html
    for marker in ('id="alerts"', 'id="zones"', 'id="occupancy-chart"', 'id="cameras"',
                   'id="queue"', 'id="windows"', 'id="proposals"', 'id="auto"', 'id="changes"',
                   "vendor/chart.umd.min.js", "vendor/socket.io.min.js", "js/dashboard.js",
                   "近 3 小时在场人数", '"queue_alert": 15'):
        assert marker in html, marker
    assert 'id="overdue"' in html


def test_reports_page_links_the_csv_of_each_grouping(app, clock):
    client = manager(app)
    take(app, clock, "enterprise", 2)
    html = client.get("/manager/reports").get_data(as_text=True)
    assert 'name="from" value="2026-11-19"' in html and 'name="to" value="2026-11-25"' in html
    links = re.findall(r'class="csv" href="([^"]+)"', html)
    assert [re.search(r"group_by=(\w+)", h).group(1) for h in links[:5]] == \
        ["day", "hour", "service", "window", "clerk"]
    assert "/api/v1/reports/cases?" in links[5]  # the case measures
    assert all("/api/v1/reports/pauses?" in h for h in links[6:8])  # time paused, by reason
    csv = client.get(links[2].replace("&amp;", "&"))
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "enterprise,2," in csv.get_data(as_text=True)
    shared = client.get("/manager/reports?from=2026-11-01&to=2026-11-20&lang=en")
    html = shared.get_data(as_text=True)
    assert 'value="2026-11-01"' in html and 'value="2026-11-20"' in html and "By clerk" in html
    fallback = client.get("/manager/reports?from=someday").get_data(as_text=True)
    assert 'name="from" value="2026-11-19"' in fallback


def test_auto_settings_row_is_made_once(app):
    assert manager(app).get("/api/v1/workload/auto").status_code == 200
    with app.extensions["hall"].db.read() as s:
        assert s.scalars(select(WorkloadAuto)).all()[0].id == 1
