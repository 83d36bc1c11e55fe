"""好差评 through the web: the signed link in the result SMS opens the rating page; the bad
rating's owner works the rectification under their own login (the body names no actor);
the call-back number is shown to the owner only, and that read is logged; the clerk appeals
from the window; the figures and their CSV; the dashboard alert of a late rectification."""

from __future__ import annotations

import datetime as dt
import json
import tomllib

import pytest
from sqlalchemy import select

from hall_ops.cases.notices import notify_ready
from hall_ops.config import parse_config
from hall_ops.evaluation.models import Rating, RectificationEvent
from hall_ops.staff import accounts
from hall_ops.staff.models import SecurityEvent
from tests.conftest import StepClock
from tests.support.sms_gateway import SmsGatewayStub
from tests.support.web import CHEAP, hall_app, staff_client, window_client
from tests.test_delivery import decide
from tests.test_intake import NOW, ROOT, flat_case
from tests.test_notices import KEY_ID, SECRET, SIGN, TEMPLATE

PUBLIC = "https://hall.example.gov"


@pytest.fixture
def gateway():
    with SmsGatewayStub(KEY_ID, SECRET, SIGN, TEMPLATE) as stub:
        yield stub


@pytest.fixture
def clock() -> StepClock:
    return StepClock(NOW)


@pytest.fixture
def app(tmp_path, gateway, clock):
    raw = tomllib.loads((ROOT / "config.toml").read_text())
    raw["notices"] = {"sms": {"endpoint": gateway.url, "access_key_id": KEY_ID,
                              "access_key_secret": SECRET, "sign_name": SIGN,
                              "template_code": TEMPLATE}}
    raw["evaluation"] = {"public_url": PUBLIC, "department_managers": {"bdc": "li.bdc"}}
    app = hall_app(parse_config(raw, ROOT), database_url=f"sqlite:///{tmp_path / 'h.db'}",
                   clock=clock, always_open=True)
    with app.extensions["hall"].db.write() as s:
        accounts.add_staff(s, "test", "li.bdc", "李科长", NOW, CHEAP, password="long enough")
        accounts.grant_role(s, "test", "li.bdc", "manager", NOW, CHEAP)
    yield app
    app.extensions["hall"].db.dispose()


def test_from_the_sms_link_to_the_answer_and_the_appeal(app, gateway, clock):
    hall = app.extensions["hall"]
    number = flat_case(hall.db, hall.config)
    decide(hall.db, number)
    notify_ready(hall.db, hall.notices.channels, clock(), link_for=hall.rating_link)
    (sent,) = gateway.accepted
    link = json.loads(sent["TemplateParam"])["link"]
    assert json.loads(sent["TemplateParam"])["case"] == number and link.startswith(PUBLIC + "/r/")
    path = link.removeprefix(PUBLIC)

    citizen = app.test_client()
    page = citizen.get(path).get_data(as_text=True)
    assert number in page and "非常不满意" in page and "多次跑动" in page
    assert citizen.get(path[:-3] + "abc").status_code == 404
    api = "/api/v1/rating-links/" + path.removeprefix("/r/")
    assert [i["rateable"] for i in citizen.get(api).json["items"]] == [True, True, True]
    r = citizen.post(api + "/items/BDC-01/rating",
                     json={"level": 1, "tags": ["many_trips", "attitude"], "comment": "跑了三次"})
    assert (r.status_code, r.json["channel"], r.json["level_code"]) == (
        201, "sms_link", "very_dissatisfied")
    assert citizen.post(api + "/items/BDC-01/rating", json={"level": 5}).status_code == 409
    assert citizen.post(api + "/items/BDC-05/rating", json={"level": 5}).status_code == 201
    r = citizen.post(api + "/items/BDC-01/follow-up", json={"text": "希望一次告知清楚"})
    assert r.json["follow_up"] == "希望一次告知清楚"

    # the department's manager owns it; another manager may look but not act
    manager, owner = staff_client(app, "manager"), staff_client(app, "li.bdc", "long enough")
    (row,) = manager.get("/api/v1/rectifications?status=open").json["rectifications"]
    assert (row["owner"], row["department"], row["clerk"], row["window"]) == (
        "li.bdc", "bdc", "c08", 8)
    assert row["citizen"] == {"name": "张*", "phone": "138****8000"}  # masked on screens
    assert row["due_on"] == "2026-12-16"  # 15 working days after Wed 25 Nov
    rid = row["id"]
    r = manager.post(f"/api/v1/rectifications/{rid}/rectify", json={"text": "x"})
    assert (r.status_code, r.json["error"]) == (403, "not_owner")
    assert manager.get(f"/api/v1/rectifications/{rid}/contact").status_code == 403
    contact = owner.get(f"/api/v1/rectifications/{rid}/contact").json
    assert contact == {"name": "张三", "phone": "13800138000", "case_number": number}
    with hall.db.read() as s:
        read = s.scalars(select(SecurityEvent).where(SecurityEvent.kind == "personal_data_read",
                                                     SecurityEvent.actor == "li.bdc")).one()
        assert read.subject == f"rectification:{rid}" and read.detail["purpose"] == "call_back"

    # the actor is the session's: a body naming one is refused
    r = owner.post(f"/api/v1/rectifications/{rid}/rectify",
                   json={"text": "设立一次性告知单", "actor": "mallory"})
    assert r.status_code == 422
    assert owner.post(f"/api/v1/rectifications/{rid}/rectify",
                      json={"text": "设立一次性告知单"}).status_code == 200
    r = owner.post(f"/api/v1/rectifications/{rid}/call-back", json={"text": "已联系"})
    assert (r.status_code, r.json["error"]) == (422, "reached_required")
    owner.post(f"/api/v1/rectifications/{rid}/call-back", json={"reached": True, "text": "已联系"})

    # the clerk who accepted the case appeals from the window; the manager decides
    clerk = window_client(app, 8, "c08")
    (mine,) = clerk.get("/api/v1/windows/8/rectifications").json["rectifications"]
    assert mine["id"] == rid
    assert window_client(app, 9, "c09").post(
        f"/api/v1/windows/9/rectifications/{rid}/appeal",
        json={"reason": "不是我", "evidence": "无"}).json["error"] == "not_your_rating"
    r = clerk.post(f"/api/v1/windows/8/rectifications/{rid}/appeal",
                   json={"reason": "当日系统故障，三次往返非窗口原因",
                         "evidence": "故障工单 2026-1125-07"})
    assert r.json["appeal"]["status"] == "pending"
    r = manager.post(f"/api/v1/rectifications/{rid}/appeal/accept", json={"note": "工单属实"})
    assert r.json["appeal"]["status"] == "accepted" and r.json["rating"]["excluded"]
    r = owner.post(f"/api/v1/rectifications/{rid}/answer", json={"text": "已整改并致歉"})
    detail = r.json
    assert (detail["status"], detail["on_time"]) == ("closed", True)
    assert [(e["kind"], e["actor"]) for e in detail["events"]] == [
        ("opened", None), ("rectified", "li.bdc"), ("called_back", "li.bdc"),
        ("appealed", "c08"), ("appeal_accepted", "manager"), ("answered", "li.bdc"),
        ("closed", None)]
    with hall.db.read() as s:  # the rating stays on record
        assert s.scalars(select(Rating.level).where(Rating.item_code == "BDC-01")).one() == 1
        assert s.scalars(select(RectificationEvent)).all()

    # figures: the appealed rating leaves the clerk's good-rating rate, the CSV says so too
    q = "/api/v1/reports/ratings?from=2026-11-25&to=2026-11-25&group_by="
    (clerk_row,) = manager.get(q + "clerk").json["rows"]
    assert (clerk_row["key"], clerk_row["ratings"], clerk_row["excluded"],
            clerk_row["good_rate"]) == ("c08", 1, 1, 1.0)
    departments = {r["key"]: r for r in manager.get(q + "department").json["rows"]}
    assert departments["bdc"]["rated"] == 1 and departments["zjj"]["rating_rate"] == 1.0
    csv = manager.get(q + "item&format=csv").get_data(as_text=True)
    assert csv.splitlines()[0].lstrip("\ufeff").startswith("item,finished,rated,rating_rate")
    assert manager.get(q + "colour").status_code == 422
    for page in ("/manager/evaluation", "/manager/rectifications"):
        assert manager.get(page).status_code == 200


def test_a_late_rectification_is_an_alert_on_the_dashboard(app, clock):
    hall = app.extensions["hall"]
    clerk = window_client(app, 4, "c04")
    citizen = app.test_client()
    token = citizen.post("/api/v1/tickets", json={"service": "enterprise"}).json["token"]
    for action in ("call-next", "start", "finish"):
        assert clerk.post(f"/api/v1/windows/4/{action}").status_code == 200
    r = citizen.post(f"/api/v1/tickets/{token}/rating", json={"level": 2, "tags": ["long_wait"]})
    assert r.status_code == 201
    manager = staff_client(app, "manager")
    kinds = {a["kind"] for a in manager.get("/api/v1/dashboard/alerts").json["alerts"]}
    assert "rectification_overdue" not in kinds
    clock.now += dt.timedelta(days=30)  # past the 15 working days (a new login: sessions idle out)
    alerts = staff_client(app, "manager").get("/api/v1/dashboard/alerts").json["alerts"]
    assert {"kind": "rectification_overdue", "severity": "critical", "count": 1} in alerts
    with hall.db.read() as s:
        assert s.scalars(select(Rating.channel)).one() == "ticket_page"
