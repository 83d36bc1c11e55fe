"""The clerk console, missed numbers and the citizen's pages through the JSON API (Flask test
client) and Socket.IO (issue 10): calls out of order, pauses with a reason and their report,
the no-show rule, rejoining at a window or the kiosk, transfers to a closed window, results
ready at the decision, gaps outstanding, and answers in the page's language."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from sqlalchemy import func, select

from hall_ops.cases.catalogue import ServiceItem, load_catalogue
from hall_ops.queue.models import TicketEvent
from tests.conftest import ROOT
from tests.support.web import (
    device_client,
    hall_app,
    received_until,
    staff_client,
    window_client,
)
from tests.test_intake_api import APPLICANT, E_LICENCES, GAPS, PAPER, dispatch

ZH = {"Accept-Language": "zh"}


@pytest.fixture
def app(tmp_path, hall_config, clock):
    app = hall_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'hall.db'}")
    with app.extensions["hall"].db.write() as s:
        if not s.scalar(select(func.count()).select_from(ServiceItem)):
            load_catalogue(s, ROOT / "data" / "catalogue")
    yield app
    app.extensions["hall"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def approver(app):
    """The market supervision bureau's (scj) approver, logged in."""
    return staff_client(app, "appr-scj")


def take(client, service: str = "enterprise") -> dict:
    r = client.post("/api/v1/tickets", json={"service": service})
    assert r.status_code == 201, r.json
    return r.json


def events(app, kind: str) -> list[TicketEvent]:
    with app.extensions["hall"].db.read() as s:
        rows = s.scalars(select(TicketEvent).where(TicketEvent.kind == kind)).all()
        s.expunge_all()
        return list(rows)


def missed_at_4(app, client, clerk) -> dict:
    """A ticket called at window 4, recalled as often as the hall asks, then missed."""
    ticket = take(client)
    assert clerk.post("/api/v1/windows/4/call-next").json["ticket"]["number"] == ticket["number"]
    for _ in range(app.extensions["hall"].config.queue.no_show_after_recalls):
        assert clerk.post("/api/v1/windows/4/recall", json={}).status_code == 200
    assert clerk.post("/api/v1/windows/4/no-show", json={}).status_code == 200
    return ticket


def test_call_out_of_order_needs_a_reason_and_is_on_record(app, client):
    clerk = window_client(app, 4, "c04")
    first, _, third = take(client), take(client), take(client)
    r = clerk.post("/api/v1/windows/4/call", json={"ticket": third["number"]})
    assert r.status_code == 422 and r.json["field"] == "reason"
    r = clerk.post("/api/v1/windows/4/call", json={"ticket": third["number"], "reason": "轮椅"})
    assert r.status_code == 200, r.json
    assert r.json["call"]["ticket"] == third["number"] and r.json["window"]["state"] == "calling"
    assert r.json["window"]["next"][0] == first["number"]
    (called,) = [e for e in events(app, "called") if e.detail.get("out_of_order")]
    assert (called.clerk_id, called.detail["reason"], called.window_number) == ("c04", "轮椅", 4)
    assert called.origin  # the caller's address
    # a number another window holds is refused, in the page's language
    other = window_client(app, 5, "c05")
    r = other.post("/api/v1/windows/5/call", json={"ticket": third["number"], "reason": "x"},
                   headers=ZH)
    assert r.status_code == 409 and r.json["error"] == "ticket_not_callable"
    assert "其他窗口" in r.json["message"]
    assert client.post("/api/v1/windows/4/call",
                       json={"ticket": first["number"], "reason": "x"}).status_code == 401


def test_no_show_refusal_says_how_many_recalls_remain(app, client):
    clerk = window_client(app, 4, "c04")
    take(client)
    view = clerk.post("/api/v1/windows/4/call-next").json["window"]
    assert view["recalls_needed"] == 2 and view["ticket"]["recalls"] == 0
    assert view["ticket"]["called_at"] and view["ticket"]["started_at"] is None
    r = clerk.post("/api/v1/windows/4/no-show", json={}, headers=ZH)
    assert r.status_code == 409 and r.json["left"] == 2
    assert r.json["message"] == "还需重呼 2 次才能标记过号"
    clerk.post("/api/v1/windows/4/recall", json={})
    r = clerk.post("/api/v1/windows/4/no-show", json={}, headers={"Accept-Language": "en"})
    assert r.json["left"] == 1 and "1 more time" in r.json["message"]


def test_pause_needs_a_reason_from_the_list_and_the_report_counts_it(app, clock):
    clerk = window_client(app, 4, "c04")
    r = clerk.post("/api/v1/windows/4/pause", json={"paused": True}, headers=ZH)
    assert r.status_code == 422 and r.json["error"] == "pause_reason_required"
    assert r.json["message"] == "请选择暂停原因"
    r = clerk.post("/api/v1/windows/4/pause", json={"paused": True, "reason": "nap"})
    assert r.status_code == 422 and r.json["error"] == "pause_reason_required"
    r = clerk.post("/api/v1/windows/4/pause", json={"paused": True, "reason": "meeting"})
    assert r.status_code == 200
    assert (r.json["state"], r.json["pause_reason"]) == ("paused", "meeting")
    clock.advance(minutes=12)
    assert clerk.post("/api/v1/windows/4/pause", json={"paused": False}).json["state"] == "idle"
    manager = staff_client(app, "manager")
    report = manager.get("/api/v1/reports/pauses?group_by=clerk").json
    (row,) = report["rows"]
    assert row["key"] == "c04" and row["pauses"] == 1 and 12 <= row["meeting_minutes"] < 12.1
    assert row["break_minutes"] == 0 and row["paused_minutes"] == row["meeting_minutes"]
    csv = manager.get("/api/v1/reports/pauses?format=csv").get_data(as_text=True)
    assert csv.splitlines()[0].endswith("window,pauses,break_minutes,meeting_minutes,"
                                        "system_fault_minutes,paused_minutes")
    assert manager.get("/api/v1/reports/pauses?group_by=day").status_code == 422


def test_a_missed_ticket_rejoins_at_a_window_once(app, client):
    clerk = window_client(app, 4, "c04")
    missed = missed_at_4(app, client, clerk)
    behind = [take(client)["number"] for _ in range(2)]
    view = clerk.get("/api/v1/windows/4").json
    assert view["missed"] == [missed["number"]]
    r = clerk.post("/api/v1/windows/4/rejoin", json={"ticket": missed["number"].lower()})
    assert r.status_code == 200, r.json
    assert r.json["missed"] == [] and r.json["waiting_numbers"] == [*behind, missed["number"]]
    status = client.get(f"/api/v1/tickets/{missed['token']}").json
    assert status["status"] == "waiting" and status["people_ahead"] == 2
    (event,) = events(app, "rejoined")
    assert (event.clerk_id, event.detail["via"], event.detail["at_window"]) == ("c04", "window", 4)
    r = clerk.post("/api/v1/windows/4/rejoin", json={"ticket": missed["number"]}, headers=ZH)
    assert r.status_code == 409 and r.json["error"] == "not_missed"
    assert r.json["message"] == "只有过号的号票才能重新排队"


def test_a_missed_ticket_rejoins_at_the_kiosk_with_its_qr_code(app, client):
    clerk = window_client(app, 4, "c04")
    missed = missed_at_4(app, client, clerk)
    kiosk = device_client(app, "hall", "kiosk")
    body = {"number": missed["number"], "token": "not-its-token"}
    assert kiosk.post("/api/v1/tickets/rejoin", json=body).status_code == 404
    other = take(client)
    body = {"number": missed["number"], "token": other["token"]}  # someone else's QR code
    assert kiosk.post("/api/v1/tickets/rejoin", json=body).json["error"] == "unknown_ticket"
    # the scanner types the whole status link
    body = {"number": missed["number"], "token": missed["status_url"]}
    assert client.post("/api/v1/tickets/rejoin", json=body).status_code == 401  # not a kiosk
    console = app.extensions["hall"].socketio.test_client(app, flask_test_client=clerk)
    console.emit("join", {"room": "window:4"}, callback=True)
    console.get_received()
    r = kiosk.post("/api/v1/tickets/rejoin", json=body)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "waiting" and r.json["number"] == missed["number"]
    # the consoles of windows serving it redraw: no longer missed, waiting again
    (view,) = [e["args"][0] for e in console.get_received() if e["name"] == "window"]
    assert view["missed"] == [] and view["next"] == [other["number"], missed["number"]]
    (event,) = events(app, "rejoined")
    assert event.clerk_id is None and event.detail["via"] == "kiosk"
    assert "device:" in event.origin


def test_transfer_to_a_closed_window_is_refused_in_the_pages_language(app, client):
    clerk = window_client(app, 4, "c04")
    take(client)
    clerk.post("/api/v1/windows/4/call-next")
    r = clerk.post("/api/v1/windows/4/transfer", json={"window": 6}, headers=ZH)
    assert r.status_code == 409 and r.json["error"] == "window_closed"
    assert r.json["message"] == "目标窗口未开放，转过去将无人叫号"
    assert clerk.get("/api/v1/windows/4").json["state"] == "calling"  # nothing changed


def test_screens_get_missed_numbers_in_the_snapshot_and_when_they_change(app, client):
    socketio = app.extensions["hall"].socketio
    screen = socketio.test_client(app)
    screen.emit("join", {"room": "zone:front_intake"}, callback=True)
    (snapshot,) = [e["args"][0] for e in screen.get_received() if e["name"] == "snapshot"]
    assert snapshot["missed"] == []
    clerk = window_client(app, 4, "c04")
    missed = missed_at_4(app, client, clerk)
    # Pushed shortly after the change (the hall's feed), the last push the state now.
    pushes = [e["args"][0] for e in received_until(screen, "missed", lambda p: p["missed"])
              if e["name"] == "missed"]
    assert pushes[-1]["room"] == "zone:front_intake"
    assert [m["ticket"] for m in pushes[-1]["missed"]] == [missed["number"]]
    assert pushes[-1]["missed"][0]["window"] == 4
    clerk.post("/api/v1/windows/4/rejoin", json={"ticket": missed["number"]})
    pushes = [e["args"][0] for e in received_until(screen, "missed") if e["name"] == "missed"]
    assert pushes[-1]["missed"] == []
    business = socketio.test_client(app)
    business.emit("join", {"room": "zone:business"}, callback=True)
    clerk.post("/api/v1/windows/4/call-next")
    time.sleep(3 * app.extensions["hall"].config.sections.server.push_seconds)
    assert [e for e in business.get_received() if e["name"] == "missed"] == []


def accept_all_received(app, items=("QY-01",), gaps=()):
    """A case of the scj console; ``gaps``: the gap materials left outstanding."""
    clerk = app.test_client()
    ticket = take(clerk)
    login = clerk.post("/api/v1/windows/4/login", json={"clerk": "c04", "pin": "1234"})
    assert login.status_code == 200
    clerk.post("/api/v1/windows/4/call-next")
    clerk.post("/api/v1/windows/4/start", json={})
    received = [m for m in PAPER + GAPS if m not in gaps]
    r = clerk.get(f"/api/v1/items/{items[0]}/guide").json
    mine = {m["name_zh"] for m in r["materials"]}
    body = {"applicant": APPLICANT, "items": list(items),
            "received": [m for m in received if m in mine],
            "e_licences": [m for m in E_LICENCES if m in mine]}
    r = clerk.post("/api/v1/windows/4/intake", json=body)
    assert r.status_code == 201, r.json
    clerk.post("/api/v1/windows/4/finish", json={})
    return clerk, ticket, r.json["case_number"]


def test_the_ticket_page_learns_the_result_is_ready_at_the_approval(app, client, approver):
    _, ticket, number = accept_all_received(app)
    dispatch(app)
    kiosk = device_client(app, "hall", "kiosk")
    r = kiosk.post("/api/v1/deliveries/check-in",
                   json={"case_number": number, "phone_last4": "8000"}, headers=ZH)
    assert r.status_code == 409 and r.json["error"] == "result_not_ready"
    assert r.json["message"] == "该办件结果尚未办结，办结后将通知您"  # not English on zh pages
    phone = app.extensions["hall"].socketio.test_client(app)
    phone.emit("join", {"room": "hall"}, callback=True)
    phone.get_received()
    (case,) = approver.get("/api/v1/backoffice/scj/cases").json["cases"]
    approver.post(f"/api/v1/backoffice/cases/{case['id']}/claim", json={})
    assert client.get(f"/api/v1/tickets/{ticket['token']}").json["case"]["result_ready"] is False
    r = approver.post(f"/api/v1/backoffice/cases/{case['id']}/approve", json={})
    assert r.status_code == 200, r.json
    # no scheduler run in between: ready the moment it was decided, and pushed
    assert client.get(f"/api/v1/tickets/{ticket['token']}").json["case"]["result_ready"] is True
    assert [e["args"][0] for e in phone.get_received() if e["name"] == "result"] == [{}]
    assert kiosk.post("/api/v1/deliveries/check-in",
                      json={"case_number": number, "phone_last4": "8000"}).status_code == 201


def test_approval_and_hand_over_with_a_gap_outstanding_need_a_confirmed_reason(
        app, client, approver):
    _, _, number = accept_all_received(app, gaps=GAPS)
    dispatch(app)
    (case,) = approver.get("/api/v1/backoffice/scj/cases").json["cases"]
    act = f"/api/v1/backoffice/cases/{case['id']}"
    approver.post(f"{act}/claim", json={})
    r = approver.post(f"{act}/approve", json={}, headers=ZH)
    assert r.status_code == 409 and r.json["error"] == "gaps_outstanding"
    assert r.json["materials"] and r.json["message"].startswith("仍有容缺材料未补齐：")
    r = approver.post(f"{act}/approve", json={"confirm_gaps": True})
    assert r.status_code == 409  # confirmed, but without a reason
    r = approver.post(f"{act}/approve", json={"confirm_gaps": True, "reason": "承诺书已签"})
    assert r.status_code == 200 and r.json["status"] == "approved"
    history = approver.get(f"/api/v1/cases/{number}").json["items"][0]["history"]
    assert history[-1]["to"] == "approved" and history[-1]["actor"] == "appr-scj"
    assert "承诺书已签" in history[-1]["reason"] and "gaps outstanding" in history[-1]["reason"]
    # at the delivery window: the same rule
    kiosk = device_client(app, "hall", "kiosk")
    assert kiosk.post("/api/v1/deliveries/check-in",
                      json={"case_number": number, "phone_last4": "8000"}).status_code == 201
    delivery = window_client(app, 14, "c14")
    delivery.post("/api/v1/windows/14/call-next")
    delivery.post("/api/v1/windows/14/start", json={})
    r = delivery.post("/api/v1/windows/14/hand-over", json={})
    assert r.status_code == 409 and r.json["error"] == "gaps_outstanding"
    r = delivery.post("/api/v1/windows/14/hand-over",
                      json={"confirm_gaps": True, "reason": "科长同意先行出件"})
    assert r.status_code == 200, r.json


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_guide_names_departments_in_the_pages_language_and_on_the_spot_items(client, lang):
    html = client.get(f"/guide/enterprise?lang={lang}").get_data(as_text=True)
    assert not re.search(r"(?<!\d)0 (working days|个工作日)", html)
    if lang == "en":
        assert "Market Regulation Bureau" in html and "市场监督管理局" not in html
        assert "on the spot" in html and "1 working day " in html.replace("<", " <")
    else:
        assert "市场监督管理局" in html and "即办" in html


def test_service_timer_fields(app, client, clock):
    clerk = window_client(app, 4, "c04")
    take(client)
    clerk.post("/api/v1/windows/4/call-next")
    clock.advance(minutes=2)
    view = clerk.post("/api/v1/windows/4/start", json={}).json
    called = dt.datetime.fromisoformat(view["ticket"]["called_at"])
    started = dt.datetime.fromisoformat(view["ticket"]["started_at"])
    assert (started - called) >= dt.timedelta(minutes=2)
