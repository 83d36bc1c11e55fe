"""Intake, hand-off and approval through the JSON API (Flask test client): the clerk's intake,
refusals, accept-with-gaps, masking, supplements, the back-office console, signed callbacks
and the admin outbox. Webhook departments talk to a real HTTP server on loopback."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from hall_ops.cases import handoff
from hall_ops.cases.approval import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from hall_ops.cases.catalogue import ServiceItem, load_catalogue
from hall_ops.cases.models import Case, SeenCallback
from hall_ops.staff import accounts, log
from tests.conftest import ROOT
from tests.support.web import CHEAP, device_client, hall_app, staff_client

SECRET = "tax-bureau-shared-secret"
# A new company: registration (市场监督管理局 scj) and the tax package (税务局 swj, a webhook).
ITEMS = ["QY-01", "QY-08"]
PAPER = ["公司登记（备案）申请书", "公司章程", "董事、监事和经理的任职文件",
         "经办人身份证明及授权委托书", "新办纳税人涉税事项申请表"]
E_LICENCES = ["股东主体资格证明", "法定代表人身份证明", "营业执照"]
GAPS = ["住所使用证明", "银行开户许可证或开户信息"]  # non-key: accepted with gaps
APPLICANT = {"kind": "person", "name": "张三", "id_number": "330106198507201239",
             "phone": "138-0013-8000"}


class Department:
    """The tax bureau's own approval system: a real HTTP server that answers ``status``."""

    def __init__(self) -> None:
        self.status = 503
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(json.loads(body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/handoff"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tax_bureau():
    department = Department()
    yield department
    department.close()


@pytest.fixture
def app(tmp_path, hall_config, clock, tax_bureau):
    config = dataclasses.replace(hall_config, raw={
        **hall_config.raw,
        "approval": {"webhooks": [
            {"department": "swj", "url": tax_bureau.url, "secret": SECRET, "timeout_seconds": 5},
        ]},
    })
    app = hall_app(config, clock=clock, database_url=f"sqlite:///{tmp_path / 'hall.db'}")
    with app.extensions["hall"].db.write() as s:
        if not s.scalar(select(func.count()).select_from(ServiceItem)):
            load_catalogue(s, ROOT / "data" / "catalogue")
    yield app
    app.extensions["hall"].db.dispose()


@pytest.fixture
def client(app):
    """A citizen's browser: no login."""
    return app.test_client()


@pytest.fixture
def approver(app):
    """The market supervision bureau's (scj) approver, logged in."""
    return staff_client(app, "appr-scj")


def unmasked_reads(app) -> list[tuple[str, str]]:
    with app.extensions["hall"].db.read() as s:
        return [(e["actor"], e["subject"])
                for e in log.recent_events(s, kinds=["personal_data_read"])][::-1]


def clerk_serving(app, window: int = 4, clerk: str = "c04", service: str = "enterprise"):
    """A clerk's browser session at ``window``, serving a freshly taken ticket."""
    c = app.test_client()
    assert c.post("/api/v1/tickets", json={"service": service}).status_code == 201
    login = c.post(f"/api/v1/windows/{window}/login", json={"clerk": clerk, "pin": "1234"})
    assert login.status_code == 200
    called = c.post(f"/api/v1/windows/{window}/call-next").json
    assert called["ticket"] is not None
    assert c.post(f"/api/v1/windows/{window}/start").status_code == 200
    return c


def intake_body(**changes):
    return {"applicant": APPLICANT, "items": ITEMS, "received": PAPER, "e_licences": E_LICENCES,
            **changes}


def accept(clerk, window: int = 4, **changes) -> str:
    r = clerk.post(f"/api/v1/windows/{window}/intake", json=intake_body(**changes))
    assert r.status_code == 201, r.json
    return r.json["case_number"]


def dispatch(app, **policy):
    hall = app.extensions["hall"]
    return handoff.dispatch_due(
        hall.db, app.extensions["hall"].approval_backends, hall.clock(),
        policy=handoff.RetryPolicy(**policy),
    )


def signed(body: dict, clock, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    timestamp = str(int(clock.now.replace(tzinfo=dt.UTC).timestamp()))
    return raw, {SIGNATURE_HEADER: sign(secret, timestamp, raw), TIMESTAMP_HEADER: timestamp,
                 "Content-Type": "application/json"}


# ---------------------------------------------------------------- catalogue


def test_items_of_a_service_and_the_guide_of_an_item(client):
    r = client.get("/api/v1/services/enterprise/items")
    assert r.status_code == 200
    codes = [i["code"] for i in r.json["items"]]
    assert codes[:3] == ["QY-01", "QY-02", "QY-03"] and "BDC-01" not in codes
    guide = client.get("/api/v1/items/QY-01/guide").json
    assert guide["department"] == {"code": "scj", "name_zh": "市场监督管理局",
                                   "name_en": "Market Regulation Bureau"}
    by_name = {m["name_zh"]: m for m in guide["materials"]}
    assert by_name["公司章程"]["key"] is True and by_name["住所使用证明"]["key"] is False
    assert by_name["住所使用证明"]["e_licence"] is True
    assert client.get("/api/v1/services/nope/items").json["error"] == "unknown_service"
    r = client.get("/api/v1/items/QY-99/guide")
    assert r.status_code == 404 and r.json["error"] == "unknown_item"


# ---------------------------------------------------------------- intake


def test_accept_with_gaps_gives_a_case_and_a_routing_slip(app, client):
    clerk = clerk_serving(app)
    r = clerk.post("/api/v1/windows/4/intake", json=intake_body(ticket="B001"))
    assert r.status_code == 201, r.json
    assert r.json["case_number"] == "SQ20261125-0001"
    assert r.json["slip_url"] == "/cases/SQ20261125-0001/slip"

    case = clerk.get(r.json["case_url"]).json
    assert case["ticket"] == "B001" and case["window"] == 4 and case["clerk"] == "c04"
    assert [d["code"] for d in case["departments"]] == ["scj", "swj"]
    missing = {m["name_zh"]: m for m in case["materials_missing"]}
    assert set(missing) == set(GAPS)
    # Five working days from Wednesday 25 November.
    assert {m["due_on"] for m in missing.values()} == {"2026-12-02"}
    received = {m["name_zh"]: m["source"] for m in case["materials_received"]}
    assert received["营业执照"] == "e_licence" and received["公司章程"] == "paper"
    # Shared materials were handed in once: 经办人身份证明… serves both items.
    assert case["materials_handed_in"] == len(PAPER)
    assert case["materials_saved_by_sharing"] == 2
    assert [i["status"] for i in case["items"]] == ["submitted", "submitted"]
    assert case["items"][0]["history"][0]["to"] == "submitted"

    slip = clerk.get(r.json["slip_url"])
    assert slip.status_code == 200
    html = slip.get_data(as_text=True)
    assert "SQ20261125-0001" in html and "<svg" in html and "流转单" in html
    assert "张*" in html and "张三" not in html and "330106198507201239" not in html
    assert "3****************9" in html and "138****8000" in html
    assert "2026-12-02" in html and "税务局" in html and "市场监督管理局" in html
    en = clerk.get(r.json["slip_url"] + "?lang=en").get_data(as_text=True)
    assert "Routing slip" in en and "Articles of association" in en


def test_a_new_case_is_pushed_to_the_manager_and_the_window_after_commit(app):
    socketio = app.extensions["hall"].socketio
    rooms = {}
    for room, browser in (("manager", staff_client(app, "manager")),
                          ("window:4", device_client(app)), ("window:5", device_client(app)),
                          ("hall", app.test_client())):
        rooms[room] = socketio.test_client(app, flask_test_client=browser)
        assert rooms[room].emit("join", {"room": room}, callback=True)["ok"]
    clerk = clerk_serving(app)
    clerk.post("/api/v1/windows/4/intake", json=intake_body(received=PAPER[1:]))  # refused
    number = accept(clerk)
    for room, client in rooms.items():
        cases = [e["args"][0] for e in client.get_received() if e["name"] == "case"]
        if room in ("manager", "window:4"):
            assert cases == [{"case_number": number, "window": 4, "ticket": "B001",
                              "items": ITEMS, "departments": ["scj", "swj"], "gaps": 2}]
        else:
            assert cases == []


def test_missing_key_material_refuses_and_leaves_no_trace(app):
    clerk = clerk_serving(app)
    paper = [m for m in PAPER if m != "公司章程"]
    r = clerk.post("/api/v1/windows/4/intake", json=intake_body(received=paper))
    assert r.status_code == 422 and r.json["error"] == "key_material_missing"
    assert r.json["missing"] == [{"item": "QY-01", "item_name_zh": "有限责任公司设立登记",
                                  "material": "公司章程"}]
    r = clerk.post("/api/v1/windows/4/intake",
                   json=intake_body(received=PAPER[:-1], e_licences=[]))
    assert r.status_code == 422
    refused = {(m["item"], m["material"]) for m in r.json["missing"]}
    assert ("QY-08", "新办纳税人涉税事项申请表") in refused
    assert ("QY-01", "法定代表人身份证明") in refused and ("QY-08", "营业执照") in refused
    with app.extensions["hall"].db.read() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
    assert staff_client(app, "admin").get("/api/v1/outbox").json["messages"] == []
    # The same ticket can then be accepted once the applicant has everything.
    assert accept(clerk) == "SQ20261125-0001"


@pytest.mark.parametrize(
    "changes, status, code",
    [
        ({"applicant": None}, 422, "missing_field"),
        ({"applicant": "张三"}, 422, "invalid_field"),
        ({"applicant": {**APPLICANT, "id_number": "330106198507201230"}}, 422,
         "invalid_resident_id"),
        ({"applicant": {**APPLICANT, "phone": "12345"}}, 422, "invalid_phone"),
        ({"applicant": {**APPLICANT, "kind": "organisation"}}, 422, "invalid_credit_code"),
        ({"applicant": {**APPLICANT, "name": "  "}}, 422, "invalid_name"),
        ({"items": None}, 422, "missing_field"),
        ({"items": "QY-01"}, 422, "invalid_field"),
        ({"items": []}, 422, "no_items"),
        ({"items": ["QY-01", "QY-01"]}, 422, "duplicate_item"),
        ({"items": ["BDC-01"]}, 422, "item_not_at_window"),
        ({"items": ["QY-99"]}, 404, "unknown_item"),
        ({"received": [*PAPER, "结婚证"]}, 422, "unknown_material"),
        ({"e_licences": [*E_LICENCES, "公司章程"]}, 422, "material_twice"),
        ({"received": PAPER[1:], "e_licences": [*E_LICENCES, PAPER[0]]}, 422,
         "e_licence_not_accepted"),
        ({"ticket": "B007"}, 409, "ticket_not_current"),
    ],
)
def test_bad_intake_is_refused_with_a_reason(app, changes, status, code):
    clerk = clerk_serving(app)
    body = {k: v for k, v in intake_body(**changes).items() if v is not None}
    r = clerk.post("/api/v1/windows/4/intake", json=body)
    assert (r.status_code, r.json["error"]) == (status, code), r.json
    assert r.json["message"]


def test_intake_needs_the_clerk_of_the_window_serving_a_ticket(app, client):
    r = client.post("/api/v1/windows/4/intake", json=intake_body())
    assert r.status_code == 401 and r.json["error"] == "login_required"
    clerk = clerk_serving(app)
    r = clerk.post("/api/v1/windows/5/intake", json=intake_body())  # logged in at 4, not 5
    assert r.status_code == 403 and r.json["error"] == "forbidden"
    assert clerk.post("/api/v1/windows/4/finish").status_code == 200
    r = clerk.post("/api/v1/windows/4/intake", json=intake_body())
    assert r.status_code == 409 and r.json["error"] == "no_current_ticket"
    r = clerk.post("/api/v1/windows/4/intake", data="nope", content_type="application/json")
    assert r.status_code == 422 and r.json["error"] == "bad_json"


def test_identity_is_unmasked_only_to_the_clerk_who_accepted_and_the_approvers(
        app, client, approver):
    clerk = clerk_serving(app)
    number = accept(clerk)
    whole = {"kind": "person", "name": "张三", "id_number": "330106198507201239",
             "phone": "13800138000"}
    own = clerk.get(f"/api/v1/cases/{number}").json
    assert own["masked"] is False and own["applicant"] == whole
    # scj decides QY-01: its approvers see the case whole; each read is logged
    opened = approver.get(f"/api/v1/cases/{number}").json
    assert opened["masked"] is False and opened["applicant"] == whole
    assert unmasked_reads(app) == [("c04", f"case:{number}"), ("appr-scj", f"case:{number}")]
    for viewer in (clerk_serving(app, window=5, clerk="c05"), staff_client(app, "appr-bdc")):
        other = viewer.get(f"/api/v1/cases/{number}").json
        assert other["masked"] is True
        assert other["applicant"] == {"kind": "person", "name": "张*",
                                      "id_number": "3****************9", "phone": "138****8000"}
    assert len(unmasked_reads(app)) == 2  # masked views are not personal-data reads
    assert client.get(f"/api/v1/cases/{number}").status_code == 401
    assert staff_client(app, "manager").get(f"/api/v1/cases/{number}").status_code == 403
    clerk.post("/api/v1/windows/4/finish")
    clerk.post("/api/v1/windows/4/logout")
    assert clerk.get(f"/api/v1/cases/{number}").status_code == 401  # the session ended
    r = approver.get("/api/v1/cases/SQ20261125-0099")
    assert r.status_code == 404 and r.json["error"] == "unknown_case"


def test_supplement_fills_a_gap_and_a_return_visit_counts_once(app, client):
    clerk = clerk_serving(app)
    number = accept(clerk)
    r = client.post(f"/api/v1/cases/{number}/supplements", json={"material": GAPS[0]})
    assert r.status_code == 401
    # Posted in: no window visit.
    r = clerk.post(f"/api/v1/cases/{number}/supplements",
                   json={"material": "住所使用证明", "e_licence": True})
    assert r.status_code == 201, r.json
    assert [m["name_zh"] for m in r.json["materials_missing"]] == ["银行开户许可证或开户信息"]
    assert r.json["windows_visited"] == 1
    r = clerk.post(f"/api/v1/cases/{number}/supplements", json={"material": "住所使用证明"})
    assert r.status_code == 409 and r.json["error"] == "already_received"
    # The applicant comes back with a new ticket to the same window.
    clerk.post("/api/v1/windows/4/finish")
    clerk.post("/api/v1/tickets", json={"service": "enterprise"})
    clerk.post("/api/v1/windows/4/call-next")
    r = clerk.post(f"/api/v1/cases/{number}/supplements",
                   json={"material": "银行开户许可证或开户信息", "ticket": "B001"})
    assert r.status_code == 409 and r.json["error"] == "ticket_not_current"
    r = clerk.post(f"/api/v1/cases/{number}/supplements",
                   json={"material": "银行开户许可证或开户信息", "ticket": "B002"})
    assert r.status_code == 201, r.json
    assert r.json["materials_missing"] == [] and r.json["windows_visited"] == 2
    assert r.json["materials_handed_in"] == len(PAPER) + 1
    r = clerk.post(f"/api/v1/cases/{number}/supplements", json={"material": "结婚证"})
    assert r.status_code == 404 and r.json["error"] == "unknown_material"


# ---------------------------------------------------------------- back office


def materials_of(approver) -> list[dict]:
    return approver.get("/api/v1/backoffice/scj/cases").json["cases"][0]["materials"]


def test_back_office_console_claims_approves_rejects_and_asks_for_supplements(
        app, client, approver, clock):
    number = accept(clerk_serving(app))
    assert approver.get("/api/v1/backoffice/scj/cases").json["cases"] == []  # not delivered yet
    report = dispatch(app)
    assert f"{number}:scj" in report.delivered
    cases = approver.get("/api/v1/backoffice/scj/cases").json["cases"]
    assert len(cases) == 1 and cases[0]["case_number"] == number
    assert cases[0]["status"] == "submitted" and [i["code"] for i in cases[0]["items"]] == ["QY-01"]
    # the list is masked; opening the case shows it whole, and that read is logged
    assert cases[0]["applicant"] == {"kind": "person", "name": "张*",
                                     "id_number": "3****************9", "phone": "138****8000"}
    assert unmasked_reads(app) == []
    console_id = cases[0]["id"]
    opened = approver.get(f"/api/v1/backoffice/cases/{console_id}").json
    assert opened["applicant"]["id_number"] == "330106198507201239"
    assert unmasked_reads(app) == [("appr-scj", f"case:{number}")]
    with app.extensions["hall"].db.write() as s:  # a second approver of the same department
        accounts.add_staff(s, "admin", "appr-scj-2", "王审批", clock(), CHEAP, password="hall-demo")
        accounts.grant_role(s, "admin", "appr-scj-2", "approver", clock(), CHEAP,
                            department="scj")
    colleague = staff_client(app, "appr-scj-2")

    def act(action: str, who=approver, **body: str):
        return who.post(f"/api/v1/backoffice/cases/{console_id}/{action}", json=body)

    r = act("approve")
    assert r.status_code == 409 and r.json["error"] == "invalid_transition"
    r = act("claim", approver="mallory")  # the approver is who is logged in, not the body
    assert r.status_code == 422 and r.json["field"] == "approver"
    r = act("claim")
    assert r.status_code == 200
    assert (r.json["status"], r.json["claimed_by"]) == ("claimed", "appr-scj")
    assert r.json["applicant"]["name"] == "张*"
    r = act("approve", who=colleague)
    assert r.status_code == 409 and r.json["error"] == "claimed_by_other"
    r = act("supplement")
    assert r.status_code == 422 and r.json["error"] == "reason_required"
    r = act("supplement", reason="住所使用证明须加盖产权单位公章")
    assert r.status_code == 200 and r.json["status"] == "supplement_requested"
    lease = next(m for m in materials_of(approver) if m["name_zh"] == "住所使用证明")
    assert (lease["status"], lease["due_on"]) == ("missing", "2026-12-02")
    clerk = clerk_serving(app, window=5, clerk="c05")
    assert clerk.post(f"/api/v1/cases/{number}/supplements",
                      json={"material": "住所使用证明", "ticket": "B002"}).status_code == 201
    lease = next(m for m in materials_of(approver) if m["name_zh"] == "住所使用证明")
    assert (lease["status"], lease["source"], lease["due_on"]) == ("received", "paper", None)
    item = approver.get(f"/api/v1/cases/{number}").json["items"][0]
    assert item["status"] == "supplement_requested" and item["paused"] is True
    assert item["history"][-1]["reason"] == "住所使用证明须加盖产权单位公章"
    assert act("claim").json["status"] == "claimed"
    assert act("approve").json["status"] == "approved"
    item = approver.get(f"/api/v1/cases/{number}").json["items"][0]
    assert {h["actor"] for h in item["history"][1:]} == {"appr-scj"}  # never "mallory"
    statuses = {i["code"]: i["status"]
                for i in approver.get(f"/api/v1/cases/{number}").json["items"]}
    assert statuses == {"QY-01": "approved", "QY-08": "submitted"}  # the tax item is the bureau's

    r = approver.post("/api/v1/backoffice/cases/999/claim", json={})
    assert r.status_code == 404
    assert approver.post(f"/api/v1/backoffice/cases/{console_id}/delete",
                         json={}).status_code == 404
    # another department's approver cannot see or act on scj's console
    tax = staff_client(app, "appr-swj")
    assert tax.get("/api/v1/backoffice/scj/cases").status_code == 403
    assert tax.get(f"/api/v1/backoffice/cases/{console_id}").status_code == 403
    assert tax.post(f"/api/v1/backoffice/cases/{console_id}/claim", json={}).status_code == 403
    assert approver.get("/api/v1/backoffice/nope/cases").status_code == 403
    assert client.get("/api/v1/backoffice/scj/cases").status_code == 401


def test_rejection_needs_a_reason(app, approver):
    number = accept(clerk_serving(app))
    dispatch(app)
    console_id = approver.get("/api/v1/backoffice/scj/cases").json["cases"][0]["id"]
    r = approver.post(f"/api/v1/backoffice/cases/{console_id}/reject",
                      json={"reason": "经营范围不符合规定"})
    assert r.status_code == 409 and r.json["error"] == "invalid_transition"  # claim it first
    assert approver.post(f"/api/v1/backoffice/cases/{console_id}/claim").status_code == 200
    r = approver.post(f"/api/v1/backoffice/cases/{console_id}/reject", json={})
    assert r.status_code == 422 and r.json["error"] == "reason_required"
    r = approver.post(f"/api/v1/backoffice/cases/{console_id}/reject",
                      json={"reason": "经营范围不符合规定"})
    assert r.status_code == 200 and r.json["status"] == "rejected"
    item = approver.get(f"/api/v1/cases/{number}").json["items"][0]
    assert (item["status"], item["history"][-1]["reason"]) == ("rejected", "经营范围不符合规定")


# ---------------------------------------------------------------- callback


def test_callback_with_a_bad_signature_is_401_and_changes_nothing(app, client, clock):
    clerk = clerk_serving(app)
    number = accept(clerk)
    body = {"department": "swj", "case_number": number, "item": "QY-08", "status": "in_review",
            "actor": "税务审批系统"}
    raw, good = signed(body, clock)
    scj_body = {**body, "department": "scj"}  # a console department has no secret
    tampered = json.dumps({**body, "status": "approved"}, ensure_ascii=False).encode()
    attempts = [
        (raw, signed(body, clock, secret="not-the-secret")[1]),
        (raw, {"Content-Type": "application/json"}),
        (raw, {**good, SIGNATURE_HEADER: "sha256=" + "0" * 64}),
        (tampered, good),
        (json.dumps(scj_body, ensure_ascii=False).encode(), signed(scj_body, clock)[1]),
        (b"not json", signed(body, clock)[1]),
    ]
    for data, headers in attempts:
        r = client.post("/api/v1/approval/callback", data=data, headers=headers)
        assert r.status_code == 401 and r.json["error"] == "bad_signature", data
    clock.advance(minutes=10)  # the right signature, replayed too late
    r = client.post("/api/v1/approval/callback", data=raw, headers=good)
    assert r.status_code == 401 and r.json["error"] == "bad_signature"
    item = clerk.get(f"/api/v1/cases/{number}").json["items"][1]
    assert item["code"] == "QY-08" and item["status"] == "submitted"
    assert len(item["history"]) == 1


def history_of(clerk, number: str, index: int = 1) -> tuple[str, list[tuple[str, str]]]:
    item = clerk.get(f"/api/v1/cases/{number}").json["items"][index]
    return item["status"], [(h["to"], h["actor"]) for h in item["history"]]


def test_signed_callback_moves_the_item_and_a_retry_is_harmless(app, client, clock):
    clerk = clerk_serving(app)
    number = accept(clerk)
    body = {"department": "swj", "case_number": number, "item": "QY-08", "status": "in_review",
            "actor": "税务审批系统"}
    raw, headers = signed(body, clock)
    r = client.post("/api/v1/approval/callback", data=raw, headers=headers)
    assert r.status_code == 200, r.json
    assert r.json == {"case_number": number, "item": "QY-08", "status": "in_review",
                      "unchanged": False}
    clock.advance(seconds=1)  # a retry signs afresh: harmless, answered "unchanged"
    raw, headers = signed(body, clock)
    r = client.post("/api/v1/approval/callback", data=raw, headers=headers)
    assert r.status_code == 200 and r.json["unchanged"] is True
    raw, headers = signed({**body, "status": "approved"}, clock)
    assert client.post("/api/v1/approval/callback", data=raw, headers=headers).status_code == 200
    assert history_of(clerk, number) == ("approved", [
        ("submitted", "c04"), ("in_review", "税务审批系统"), ("approved", "税务审批系统")])
    # A department may only move its own items, and only along the life cycle.
    raw, headers = signed({**body, "item": "QY-01"}, clock)
    r = client.post("/api/v1/approval/callback", data=raw, headers=headers)
    assert r.status_code == 404 and r.json["error"] == "unknown_case_item"
    raw, headers = signed({**body, "status": "rejected", "reason": "x"}, clock)
    r = client.post("/api/v1/approval/callback", data=raw, headers=headers)
    assert r.status_code == 409 and r.json["error"] == "invalid_transition"
    raw, headers = signed({k: v for k, v in body.items() if k != "status"}, clock)
    r = client.post("/api/v1/approval/callback", data=raw, headers=headers)
    assert r.status_code == 422 and r.json["error"] == "missing_field"


def test_a_replayed_callback_is_refused_and_changes_nothing(app, client, clock):
    """A captured callback sent again byte for byte, within its 300 s window: 409."""
    clerk = clerk_serving(app)
    number = accept(clerk)
    body = {"department": "swj", "case_number": number, "item": "QY-08", "status": "in_review"}
    moved, moved_headers = signed(body, clock)
    assert client.post("/api/v1/approval/callback", data=moved,
                       headers=moved_headers).status_code == 200
    clock.advance(seconds=1)
    raw, headers = signed({**body, "status": "rejected", "reason": "经营范围不符合规定"}, clock)
    assert client.post("/api/v1/approval/callback", data=raw, headers=headers).status_code == 200
    assert history_of(clerk, number)[0] == "rejected"
    # Replayed within the window (the signature and timestamp are still good): refused.
    clock.advance(seconds=200)
    r = client.post("/api/v1/approval/callback", data=moved, headers=moved_headers)
    assert r.status_code == 409 and r.json["error"] == "replayed_callback"
    r = client.post("/api/v1/approval/callback", data=raw, headers=headers)
    assert r.status_code == 409 and r.json["error"] == "replayed_callback"
    assert history_of(clerk, number) == ("rejected", [
        ("submitted", "c04"), ("in_review", "swj"), ("rejected", "swj")])
    # After the window the timestamp alone refuses it, and the seen signatures are dropped.
    clock.advance(seconds=200)
    r = client.post("/api/v1/approval/callback", data=moved, headers=moved_headers)
    assert r.status_code == 401 and r.json["error"] == "bad_signature"
    fresh, fresh_headers = signed({**body, "status": "rejected", "reason": "x"}, clock)
    r = client.post("/api/v1/approval/callback", data=fresh, headers=fresh_headers)
    assert r.status_code == 200 and r.json["unchanged"] is True
    with app.extensions["hall"].db.read() as s:
        kept = s.scalars(select(SeenCallback.signature)).all()
    assert moved_headers[SIGNATURE_HEADER] not in kept


# ---------------------------------------------------------------- outbox


def test_dead_letter_is_resent_by_the_admin_and_then_delivered(app, tax_bureau):
    client = staff_client(app, "admin")
    number = accept(clerk_serving(app))
    listed = client.get("/api/v1/outbox").json
    assert listed["counts"] == {"pending": 2, "delivered": 0, "dead": 0}
    assert {m["department"] for m in listed["messages"]} == {"scj", "swj"}
    assert "payload" not in listed["messages"][0]

    tax_bureau.status = 503  # the bureau's system is down
    report = dispatch(app, max_attempts=1)
    assert report.delivered == [f"{number}:scj"] and report.dead == [f"{number}:swj"]
    dead = client.get("/api/v1/outbox?status=dead").json["messages"]
    assert len(dead) == 1 and dead[0]["department"] == "swj" and dead[0]["items"] == ["QY-08"]
    assert "503" in dead[0]["last_error"] and dead[0]["attempts"] == 1
    delivered = client.get("/api/v1/outbox?status=delivered").json["messages"]
    assert [m["department"] for m in delivered] == ["scj"]
    r = client.post(f"/api/v1/outbox/{delivered[0]['id']}/resend")
    assert r.status_code == 409 and r.json["error"] == "not_dead"
    assert client.post("/api/v1/outbox/999/resend").status_code == 404
    r = client.get("/api/v1/outbox?status=lost")
    assert r.status_code == 422 and r.json["error"] == "invalid_status"

    tax_bureau.status = 200  # back up; the admin resends
    r = client.post(f"/api/v1/outbox/{dead[0]['id']}/resend")
    assert r.status_code == 200 and r.json["status"] == "pending" and r.json["attempts"] == 0
    assert dispatch(app).delivered == [f"{number}:swj"]
    assert client.get("/api/v1/outbox").json["counts"] == {"pending": 0, "delivered": 2, "dead": 0}
    # The bureau got the full case for its item, under the idempotency key, both times.
    assert [m["idempotency_key"] for m in tax_bureau.received] == [f"{number}:swj"] * 2
    assert tax_bureau.received[-1]["applicant"]["id_number"] == "330106198507201239"
    with app.extensions["hall"].db.read() as s:
        [resent] = log.recent_events(s, kinds=["outbox_resent"])
    assert (resent["actor"], resent["subject"]) == ("admin", f"message:{dead[0]['id']}")


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize("path, who", [
    ("/intake?window=4", "clerk"), ("/backoffice", "appr-scj"),
    ("/backoffice?department=scj", "appr-scj"), ("/admin/outbox", "admin"),
    ("/admin/staff", "admin"), ("/cases/{number}/slip", "clerk")])
def test_pages_in_chinese_and_english_with_nothing_from_outside(app, path, who):
    clerk = clerk_serving(app)
    path = path.format(number=accept(clerk))
    client = clerk if who == "clerk" else staff_client(app, who)
    zh = client.get(path)
    assert zh.status_code == 200, path
    html = zh.get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "市民中心行政服务大厅" in html
    en = client.get(path + ("&" if "?" in path else "?") + "lang=en").get_data(as_text=True)
    assert 'lang="en"' in en and "Citizen Centre" in en
    assert re.findall(r'(?:src|href|action)="((?:https?:)?//[^"]+)"', html) == []
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset


def test_intake_form_knows_who_is_serving(app, client):
    r = client.get("/intake?window=4")
    assert r.status_code == 302 and r.headers["Location"].startswith("/clerk?next=")
    clerk = clerk_serving(app)
    html = clerk.get("/intake?window=4").get_data(as_text=True)
    assert '"clerk": "c04"' in html
    assert '"gap_due": "2026-12-02"' in html and "企业登记" in html
    # The words of the page's script come from the catalogue, translated for the page.
    assert '"key material": "关键材料"' in html
    assert clerk.get("/intake?window=5").status_code == 403  # not the clerk of window 5


def test_back_office_page_lists_only_the_approvers_departments(app, approver):
    html = approver.get("/backoffice").get_data(as_text=True)
    assert 'data-department="scj"' in html and 'data-department="swj"' not in html
    assert approver.get("/backoffice?department=swj").status_code == 403


def test_pages_not_found(app, approver):
    clerk = clerk_serving(app)
    assert clerk.get("/cases/SQ1/slip").status_code == 404
    assert approver.get("/cases/SQ1/slip").status_code == 404
