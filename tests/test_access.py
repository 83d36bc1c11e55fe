"""Who may do what: every URL of the app and every Socket.IO room, tried as each kind of caller.

The tables below say, for each route (rule and method) and each room, which callers are
admitted; everyone else must be refused by the access rule (401/403, or a page sending them
to log in). A route the app has and the table lacks fails the test, so a new view cannot
arrive without someone deciding who may use it.

Also here: what the session, not the body, decides (the actor in audit rows), the seen
callback signatures on both databases, and a look-up by ID number through its keyed hash.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from hall_ops.cases import handoff
from hall_ops.cases.approval import backends_from_config, remember_callback
from hall_ops.cases.catalogue import load_catalogue
from hall_ops.cases.intake import cases_of_applicant
from hall_ops.cases.models import Case, ConsoleCase
from hall_ops.errors import Conflict
from hall_ops.evaluation.ratings import link_token
from hall_ops.staff import accounts, devices
from hall_ops.tables import metadata
from hall_web.access import views_without_rule
from tests.conftest import OPEN_NOW, ROOT, StepClock
from tests.support.web import (
    CHEAP,
    device_client,
    device_path,
    hall_app,
    raw_client,
    staff_client,
    window_client,
)
from tests.test_intake import flat_case
from tests.test_licences import PDF, issued_licence

ACTORS = ("anonymous", "screen", "zone_screen", "kiosk", "pad", "clerk", "other_clerk",
          "approver", "other_approver", "manager", "admin")
"""``clerk``: c04 logged in at window 4, the window the routes name; ``other_clerk``: c05 at
window 5. ``approver``: of bdc, a department of the case the routes name; ``other_approver``:
of scj. Devices: the hall's screen, the front intake zone's screen, the kiosk, window 4's pad."""

STAFF = {"clerk", "other_clerk", "approver", "other_approver", "manager", "admin"}
EVERYONE = set(ACTORS)
MANAGER, ADMIN = {"manager"}, {"admin"}
CLERK = {"clerk"}
CLERKS_AND_APPROVERS = {"clerk", "other_clerk", "approver", "other_approver"}

# (method, rule): (URL to request, callers admitted, JSON body for a change)
ROUTES: dict[tuple[str, str], tuple[str, set[str]]] = {
    # citizens: no login
    ("GET", "/"): ("/", EVERYONE),
    ("GET", "/static/<path:filename>"): ("/static/css/hall.css", EVERYONE),
    ("GET", "/guide/<service_code>"): ("/guide/real_estate", EVERYONE),
    ("GET", "/t/<token>"): ("/t/{token}", EVERYONE),
    ("GET", "/tickets/<token>/print"): ("/tickets/{token}/print", EVERYONE),
    ("GET", "/qr/<token>.svg"): ("/qr/{token}.svg", EVERYONE),
    ("GET", "/api/v1/hall"): ("/api/v1/hall", EVERYONE),
    ("GET", "/healthz"): ("/healthz", EVERYONE),
    ("GET", "/readyz"): ("/readyz", EVERYONE),
    ("GET", "/metrics"): ("/metrics", EVERYONE),  # its own rule: loopback (the test client)
    ("POST", "/api/v1/tickets"): ("/api/v1/tickets", EVERYONE),
    ("GET", "/api/v1/tickets/<token>"): ("/api/v1/tickets/{token}", EVERYONE),
    ("POST", "/api/v1/tickets/<token>/cancel"): ("/api/v1/tickets/{token}/cancel", EVERYONE),
    ("POST", "/api/v1/tickets/<token>/rating"): ("/api/v1/tickets/{token}/rating", EVERYONE),
    ("POST", "/api/v1/tickets/<token>/rating/follow-up"):
        ("/api/v1/tickets/{token}/rating/follow-up", EVERYONE),
    # the rating link of a result notice: its signed token is the key
    ("GET", "/r/<token>"): ("/r/{rating_link}", EVERYONE),
    ("GET", "/api/v1/rating-links/<token>"): ("/api/v1/rating-links/{rating_link}", EVERYONE),
    ("POST", "/api/v1/rating-links/<token>/items/<item_code>/rating"):
        ("/api/v1/rating-links/{rating_link}/items/BDC-01/rating", EVERYONE),
    ("POST", "/api/v1/rating-links/<token>/items/<item_code>/follow-up"):
        ("/api/v1/rating-links/{rating_link}/items/BDC-01/follow-up", EVERYONE),
    ("POST", "/api/v1/deliveries/check-in"): ("/api/v1/deliveries/check-in", EVERYONE),
    # a missed ticket rejoins at the kiosk (number + the ticket's QR code), or a manager helps
    ("POST", "/api/v1/tickets/rejoin"): ("/api/v1/tickets/rejoin", {"kiosk", "manager"}),
    # remote tickets: taken by anyone on the phone, checked in at the kiosk (its QR scanned)
    ("POST", "/api/v1/tickets/remote"): ("/api/v1/tickets/remote", EVERYONE),
    ("POST", "/api/v1/tickets/check-in"): ("/api/v1/tickets/check-in", {"kiosk", "manager"}),
    ("POST", "/api/v1/appointments"): ("/api/v1/appointments", EVERYONE),
    ("POST", "/api/v1/appointments/<code>/check-in"):
        ("/api/v1/appointments/123456/check-in", EVERYONE),
    ("GET", "/api/v1/queue"): ("/api/v1/queue", EVERYONE),
    ("GET", "/api/v1/calls"): ("/api/v1/calls", EVERYONE),
    ("GET", "/api/v1/services/<code>"): ("/api/v1/services/enterprise", EVERYONE),
    ("GET", "/api/v1/services/<code>/items"): ("/api/v1/services/enterprise/items", EVERYONE),
    ("GET", "/api/v1/items/<code>/guide"): ("/api/v1/items/QY-01/guide", EVERYONE),
    ("POST", "/api/v1/approval/callback"): ("/api/v1/approval/callback", EVERYONE),
    # self-service forms: the item's form, the citizen's draft by the ticket's token
    ("GET", "/api/v1/items/<code>/form"): ("/api/v1/items/QY-01/form", EVERYONE),
    ("POST", "/api/v1/forms/check"): ("/api/v1/forms/check", EVERYONE),
    **{(method, "/api/v1/tickets/<token>/draft"): ("/api/v1/tickets/{token}/draft", EVERYONE)
       for method in ("GET", "PUT", "DELETE")},
    # silent calling: the ticket's token is the key (the demo has no gateway: 409 for PUT)
    **{(method, "/api/v1/tickets/<token>/phone"): ("/api/v1/tickets/{token}/phone", EVERYONE)
       for method in ("GET", "PUT", "DELETE")},
    # devices (managers and admins may look at them too)
    ("GET", "/kiosk"): ("/kiosk", {"kiosk", "manager", "admin"}),
    # a kiosk's own ticket printer: its paper, and tickets printed on it
    ("GET", "/api/v1/kiosk/printer"): ("/api/v1/kiosk/printer", {"kiosk", "manager"}),
    ("POST", "/api/v1/kiosk/tickets"): ("/api/v1/kiosk/tickets", {"kiosk", "manager"}),
    ("GET", "/screen"):
        ("/screen?zone=front_intake", {"screen", "zone_screen", "manager", "admin"}),
    ("GET", "/pad"): ("/pad?window=4", {"pad", "manager", "admin"}),
    ("GET", "/api/v1/windows/<int:number>/rating-pad"):
        ("/api/v1/windows/4/rating-pad", {"pad", "manager", "admin"}),
    # logins
    ("GET", "/login"): ("/login", EVERYONE),
    ("POST", "/login"): ("/login", EVERYONE),
    ("POST", "/logout"): ("/logout", EVERYONE),
    ("GET", "/api/v1/session"): ("/api/v1/session", EVERYONE),
    # the API's document
    ("GET", "/api/v1/openapi.json"): ("/api/v1/openapi.json", EVERYONE),
    ("GET", "/api/v1/socketio-schemas.json"): ("/api/v1/socketio-schemas.json", EVERYONE),
    ("GET", "/api/docs"): ("/api/docs", EVERYONE),
    ("POST", "/api/v1/session"): ("/api/v1/session", EVERYONE),
    ("DELETE", "/api/v1/session"): ("/api/v1/session", EVERYONE),
    ("GET", "/clerk"): ("/clerk", EVERYONE),
    ("POST", "/api/v1/windows/<int:number>/login"): ("/api/v1/windows/4/login", EVERYONE),
    # the window: its clerk only
    ("GET", "/intake"): ("/intake?window=4", CLERK),
    ("GET", "/api/v1/windows/<int:number>"): ("/api/v1/windows/4", {"clerk", "manager"}),
    ("GET", "/api/v1/windows/<int:number>/reach"): ("/api/v1/windows/4/reach",
                                                    {"clerk", "manager"}),
    **{("POST", f"/api/v1/windows/<int:number>/{action}"): (f"/api/v1/windows/4/{action}", CLERK)
       for action in ("logout", "pause", "call-next", "call", "recall", "no-show", "start",
                      "finish", "hand-over", "transfer", "intake", "rejoin", "reannounce")},
    # form drafts: pulled and accepted by the clerk at the window
    ("GET", "/api/v1/windows/<int:number>/drafts"): ("/api/v1/windows/4/drafts", CLERK),
    # the resident ID of the ticket in hand, whole, to the clerk serving it (read logged)
    ("GET", "/api/v1/windows/<int:number>/ticket-identity"):
        ("/api/v1/windows/4/ticket-identity", CLERK),
    ("POST", "/api/v1/windows/<int:number>/drafts/<int:draft_id>/accept"):
        ("/api/v1/windows/4/drafts/1/accept", CLERK),
    # the clerk's bad ratings and appeals: the clerk at that window
    ("GET", "/appeals"): ("/appeals?window=4", CLERK),
    ("GET", "/api/v1/windows/<int:number>/rectifications"):
        ("/api/v1/windows/4/rectifications", CLERK),
    ("POST", "/api/v1/windows/<int:number>/rectifications/<int:rectification_id>/appeal"):
        ("/api/v1/windows/4/rectifications/1/appeal", CLERK),
    # cases: clerks, and approvers (unmasked only to the accepting clerk and the case's
    # departments' approvers: see test_intake_api)
    ("GET", "/cases/<number>/slip"): ("/cases/{case}/slip", CLERKS_AND_APPROVERS),
    ("GET", "/api/v1/cases/<number>"): ("/api/v1/cases/{case}", CLERKS_AND_APPROVERS),
    ("POST", "/api/v1/cases/<number>/supplements"):
        ("/api/v1/cases/{case}/supplements", {"clerk", "other_clerk"}),
    ("POST", "/api/v1/cases/<number>/delivery"):
        ("/api/v1/cases/{case}/delivery", {"clerk", "other_clerk"}),
    ("POST", "/api/v1/cases/<number>/mailing"):
        ("/api/v1/cases/{case}/mailing", {"clerk", "other_clerk"}),
    ("GET", "/api/v1/clerks"): ("/api/v1/clerks", {"manager", "admin"}),
    # back office: approvers of that department
    ("GET", "/backoffice"): ("/backoffice?department=bdc", {"approver"}),
    ("GET", "/api/v1/backoffice/<department>/cases"):
        ("/api/v1/backoffice/bdc/cases", {"approver"}),
    ("GET", "/api/v1/backoffice/cases/<int:case_id>"):
        ("/api/v1/backoffice/cases/{console}", {"approver"}),
    ("POST", "/api/v1/backoffice/cases/<int:case_id>/"
             "<any(claim, approve, reject, supplement):action>"):
        ("/api/v1/backoffice/cases/{console}/claim", {"approver"}),
    # managers
    ("GET", "/manager"): ("/manager", MANAGER),
    ("GET", "/manager/dashboard"): ("/manager/dashboard", MANAGER),
    ("GET", "/manager/reports"): ("/manager/reports", MANAGER),
    ("GET", "/api/v1/reports/pauses"): ("/api/v1/reports/pauses", MANAGER),
    ("GET", "/api/v1/dashboard"): ("/api/v1/dashboard", MANAGER),
    ("GET", "/api/v1/dashboard/occupancy"): ("/api/v1/dashboard/occupancy", MANAGER),
    ("GET", "/api/v1/dashboard/alerts"): ("/api/v1/dashboard/alerts", MANAGER),
    ("GET", "/api/v1/workload/proposals"): ("/api/v1/workload/proposals", MANAGER),
    ("POST", "/api/v1/workload/proposals/apply"): ("/api/v1/workload/proposals/apply", MANAGER),
    ("GET", "/api/v1/workload/changes"): ("/api/v1/workload/changes", MANAGER),
    ("GET", "/api/v1/workload/auto"): ("/api/v1/workload/auto", MANAGER),
    ("POST", "/api/v1/workload/auto"): ("/api/v1/workload/auto", MANAGER),
    ("GET", "/api/v1/notices/unsent"): ("/api/v1/notices/unsent", MANAGER),
    ("POST", "/api/v1/notices/<int:notice_id>/retry"): ("/api/v1/notices/1/retry", MANAGER),
    ("GET", "/api/v1/reports/tickets"): ("/api/v1/reports/tickets", MANAGER),
    ("GET", "/api/v1/reports/cases"): ("/api/v1/reports/cases", MANAGER),
    # 好差评: figures and rectifications (the owner's steps are checked in test_evaluation_web)
    ("GET", "/manager/evaluation"): ("/manager/evaluation", MANAGER),
    ("GET", "/manager/rectifications"): ("/manager/rectifications", MANAGER),
    ("GET", "/api/v1/reports/ratings"): ("/api/v1/reports/ratings", MANAGER),
    ("GET", "/api/v1/rectifications"): ("/api/v1/rectifications", MANAGER),
    ("GET", "/api/v1/rectifications/<int:rectification_id>"): ("/api/v1/rectifications/1", MANAGER),
    ("GET", "/api/v1/rectifications/<int:rectification_id>/contact"):
        ("/api/v1/rectifications/1/contact", MANAGER),
    ("POST", "/api/v1/rectifications/<int:rectification_id>/"
             "<any(rectify, 'call-back', answer):step>"):
        ("/api/v1/rectifications/1/rectify", MANAGER),
    ("POST", "/api/v1/rectifications/<int:rectification_id>/"
             "appeal/<any(accept, reject):decision>"):
        ("/api/v1/rectifications/1/appeal/accept", MANAGER),
    # electronic supervision: managers, and approvers of the department
    ("GET", "/supervision"): ("/supervision?department=bdc", {"approver", "manager"}),
    ("GET", "/api/v1/supervision"):
        ("/api/v1/supervision?department=bdc", {"approver", "manager"}),
    ("POST", "/api/v1/supervision/<department>/items/<int:item_id>/extensions"):
        ("/api/v1/supervision/bdc/items/1/extensions", {"approver", "manager"}),
    # the tamper-evident record's daily roots
    ("GET", "/api/v1/audit/roots"): ("/api/v1/audit/roots", MANAGER),
    # admins
    ("GET", "/admin/outbox"): ("/admin/outbox", ADMIN),
    ("GET", "/api/v1/outbox"): ("/api/v1/outbox", ADMIN),
    ("POST", "/api/v1/outbox/<int:message_id>/resend"): ("/api/v1/outbox/999/resend", ADMIN),
    ("GET", "/admin/staff"): ("/admin/staff", ADMIN),
    ("GET", "/api/v1/staff"): ("/api/v1/staff", ADMIN),
    ("POST", "/api/v1/staff"): ("/api/v1/staff", ADMIN),
    ("POST", "/api/v1/staff/<login>/<any(enable, disable):change>"):
        ("/api/v1/staff/target/enable", ADMIN),
    ("POST", "/api/v1/staff/<login>/password"): ("/api/v1/staff/target/password", ADMIN),
    ("POST", "/api/v1/staff/<login>/pin"): ("/api/v1/staff/target/pin", ADMIN),
    ("POST", "/api/v1/staff/<login>/roles/<any(grant, revoke):change>"):
        ("/api/v1/staff/target/roles/grant", ADMIN),
    ("PUT", "/api/v1/staff/<login>/windows"): ("/api/v1/staff/target/windows", ADMIN),
    ("GET", "/api/v1/devices"): ("/api/v1/devices", ADMIN),
    ("POST", "/api/v1/devices"): ("/api/v1/devices", ADMIN),
    ("POST", "/api/v1/devices/<int:device_id>/revoke"): ("/api/v1/devices/{device}/revoke", ADMIN),
    ("GET", "/api/v1/security-log"): ("/api/v1/security-log", ADMIN),
    ("GET", "/admin/floor"): ("/admin/floor", ADMIN),
    ("GET", "/api/v1/admin/floor"): ("/api/v1/admin/floor", ADMIN),
    ("GET", "/api/v1/admin/floor/changes"): ("/api/v1/admin/floor/changes", ADMIN),
    ("POST", "/api/v1/admin/floor/zones"): ("/api/v1/admin/floor/zones", ADMIN),
    ("PATCH", "/api/v1/admin/floor/zones/<code>"): ("/api/v1/admin/floor/zones/business", ADMIN),
    ("POST", "/api/v1/admin/floor/services"): ("/api/v1/admin/floor/services", ADMIN),
    ("PATCH", "/api/v1/admin/floor/services/<code>"):
        ("/api/v1/admin/floor/services/notary", ADMIN),
    ("POST", "/api/v1/admin/floor/windows"): ("/api/v1/admin/floor/windows", ADMIN),
    ("PATCH", "/api/v1/admin/floor/windows/<int:number>"):
        ("/api/v1/admin/floor/windows/9999", ADMIN),
    ("POST", "/api/v1/admin/floor/windows/<int:number>/<any(retire, reinstate):change>"):
        ("/api/v1/admin/floor/windows/9999/retire", ADMIN),
    # the e-licence library: verifying is open to everyone (the holder masked); a licence's
    # page and QR code to staff who work with it; revoking to its department's approvers
    ("GET", "/verify/<number>"): ("/verify/{licence}?s={fragment}", EVERYONE),
    ("GET", "/api/v1/verify/<number>"): ("/api/v1/verify/{licence}?s={fragment}", EVERYONE),
    ("GET", "/api/v1/licences/keys"): ("/api/v1/licences/keys", EVERYONE),
    ("GET", "/licences/<number>"): ("/licences/{licence}", CLERKS_AND_APPROVERS | MANAGER),
    ("GET", "/licences/<number>/qr.svg"):
        ("/licences/{licence}/qr.svg", CLERKS_AND_APPROVERS | MANAGER),
    ("POST", "/api/v1/windows/<int:number>/licence-offers"):
        ("/api/v1/windows/4/licence-offers", CLERK),
    ("POST", "/api/v1/backoffice/<department>/licences/<number>/revoke"):
        ("/api/v1/backoffice/bdc/licences/{licence}/revoke", {"approver"}),
    ("POST", "/api/v1/licences/import"): ("/api/v1/licences/import", ADMIN),
    ("GET", "/api/v1/cases/<number>/licences"):
        ("/api/v1/cases/{case}/licences", CLERKS_AND_APPROVERS),
    # scans of materials: any clerk at a window uploads; the case's file list only to the
    # accepting clerk (c08, not in this table) and the case's departments' approvers
    ("POST", "/api/v1/cases/<number>/files"): ("/api/v1/cases/{case}/files", {"clerk",
                                                                             "other_clerk"}),
    ("GET", "/api/v1/cases/<number>/files"): ("/api/v1/cases/{case}/files", {"approver"}),
    ("GET", "/api/v1/files/<int:file_id>"): ("/api/v1/files/{file}", {"approver"}),
}

DEVICE_PAGES = {("GET", "/kiosk"), ("GET", "/screen"), ("GET", "/pad"),
                ("GET", "/api/v1/windows/<int:number>/rating-pad"),
                ("POST", "/api/v1/tickets/rejoin"), ("GET", "/api/v1/kiosk/printer"),
                ("POST", "/api/v1/kiosk/tickets"),
                ("POST", "/api/v1/tickets/check-in")}

ROOMS: dict[str, set[str]] = {
    "hall": EVERYONE,
    "zone:front_intake": EVERYONE,
    "zone:business": EVERYONE,
    "window:4": {"screen", "pad", "clerk"},
    "manager": MANAGER,
}
"""The public rooms carry masked data only (tests/test_socketio.py checks what they get)."""

SCREEN_REPORTS: dict[str, set[str]] = {"heartbeat": {"screen", "zone_screen"},
                                       "receipt": {"screen", "zone_screen"}}
"""Socket.IO events a client emits besides ``join``: only screen devices report (a receipt
for a call its scope shows; tests/test_call_reach.py)."""


@dataclasses.dataclass
class Hall:
    app: Flask
    values: dict[str, Any]

    def client(self, actor: str) -> FlaskClient:
        """A fresh browser of ``actor``: logins end other sessions of the same person, and
        some routes log out, so no two requests share one."""
        app = self.app
        match actor:
            case "anonymous":
                return app.test_client()
            case "screen":
                return device_client(app, "hall")
            case "zone_screen":
                return device_client(app, "zone:front_intake")
            case "kiosk":
                return device_client(app, "hall", "kiosk")
            case "pad":
                client = app.test_client()
                assert client.get(self.values["pad_link"]).status_code == 302
                return client
            case "clerk" | "other_clerk":
                window, login = (4, "c04") if actor == "clerk" else (5, "c05")
                client = app.test_client()
                r = client.post(f"/api/v1/windows/{window}/login", json={"clerk": login,
                                                                          "pin": "1234"})
                assert r.status_code == 200, r.json
                return client
            case "approver":
                return staff_client(app, "appr-bdc")
            case "other_approver":
                return staff_client(app, "appr-scj")
            case _:
                return staff_client(app, actor)


@pytest.fixture(scope="module")
def hall(tmp_path_factory, hall_config):
    """One hall for the whole matrix: a waiting ticket, a case (bdc, zjj, swj) in the console,
    a pad for window 4, a staff member and a device for the admin routes to act on."""
    clock = StepClock()
    config = dataclasses.replace(hall_config, raw={**hall_config.raw, "security": {
        # the matrix makes hundreds of refused calls from one address: not what is tested here
        "login_rate": "10000 per minute", "account_rate": "10000 per minute",
        "lookup_rate": "10000 per minute",
    }})
    tmp = tmp_path_factory.mktemp("access")
    app = hall_app(config, clock=clock, database_url=f"sqlite:///{tmp / 'hall.db'}")
    hall = app.extensions["hall"]
    case = flat_case(hall.db, config)
    handoff.dispatch_due(hall.db, hall.approval_backends, clock())
    now = clock()
    with hall.db.write() as s:
        console = s.scalars(select(ConsoleCase.id).where(ConsoleCase.department == "bdc")).one()
        accounts.add_staff(s, "test", "target", "被管理者", now, CHEAP, password="long enough")
        _, pad = devices.issue_device(s, "test", "pad", "4号窗口评价器", "window:4", now, CHEAP)
        spare, _ = devices.issue_device(s, "test", "screen", "备用屏", "hall", now, CHEAP)
        spare_id = spare.id
    token = app.test_client().post("/api/v1/tickets", json={"service": "enterprise"}).json["token"]
    licence = issued_licence(hall.db, config, clock())
    scan = window_client(app, 8, "c08").post(
        f"/api/v1/cases/{case}/files", content_type="multipart/form-data",
        data={"material": "不动产买卖合同", "file": (io.BytesIO(PDF), "contract.pdf",
                                                  "application/pdf")})
    assert scan.status_code == 201, scan.json
    values = {"token": token, "case": case, "console": console, "device": spare_id,
              "pad_link": devices.device_link("pad", "window:4", pad),
              "licence": licence.number, "fragment": licence.fragment,
              "file": scan.json["id"],
              "rating_link": link_token(app.config["SECRET_KEY"], case, hall.rules, clock())}
    yield Hall(app, values)
    hall.db.dispose()


# ---------------------------------------------------------------- the matrix


def routes_of(app: Flask) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_has_a_rule_and_a_row_in_the_table(hall):
    assert views_without_rule(hall.app) == []
    assert routes_of(hall.app) == set(ROUTES), "add the new route to ROUTES (who may use it?)"


def refusal(actor: str, url: str, device_page: bool) -> int:
    """How a caller not admitted is refused: staff get 403; a device asking for a device page
    not its own gets 403; anyone else is asked to log in (401, or the login page)."""
    if actor in STAFF or device_page and actor != "anonymous":
        return 403
    return 401 if url.startswith("/api/") else 302


def refused(response: Any, url: str) -> int | None:
    """The access rule's refusal in this response, if it is one."""
    if url.startswith("/api/"):
        body = response.get_json(silent=True) or {}
        if response.status_code in (401, 403) and body.get("error") in ("login_required",
                                                                         "forbidden"):
            return response.status_code
        return None
    if response.status_code == 302 and response.headers["Location"].startswith(
            ("/login?next=", "/clerk?next=")):
        return 302
    return 403 if response.status_code == 403 else None


@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_caller_gets_exactly_its_access(hall, route):
    method, _ = route
    template, admitted = ROUTES[route]
    url = template.format(**hall.values)
    got, expected = {}, {}
    for actor in ACTORS:
        client = hall.client(actor)
        response = client.open(url, method=method, json={} if method != "GET" else None)
        assert response.status_code < 500, (actor, url, response.get_data(as_text=True)[:300])
        got[actor] = refused(response, url)
        expected[actor] = None if actor in admitted else refusal(actor, url, route in DEVICE_PAGES)
        if actor in admitted and method == "GET" and not url.startswith("/api/"):
            assert response.status_code == 200, (actor, url, response.status_code)
    assert got == expected


@pytest.mark.parametrize("room", sorted(ROOMS))
def test_each_caller_may_join_exactly_its_rooms(hall, room):
    socketio = hall.app.extensions["hall"].socketio
    got = {}
    for actor in ACTORS:
        socket = socketio.test_client(hall.app, flask_test_client=hall.client(actor))
        ack = socket.emit("join", {"room": room}, callback=True)
        snapshots = [e for e in socket.get_received() if e["name"] == "snapshot"]
        got[actor] = ack == {"ok": True, "room": room}
        assert got[actor] == bool(snapshots)  # refused: no snapshot either
        if not got[actor]:
            assert ack["error"] == "forbidden"
        socket.disconnect()
    assert {actor for actor, joined in got.items() if joined} == ROOMS[room]


@pytest.mark.parametrize("event", sorted(SCREEN_REPORTS))
def test_only_screen_devices_report(hall, event):
    socketio = hall.app.extensions["hall"].socketio
    with hall.app.extensions["hall"].db.read() as s:
        call = s.scalar(text("SELECT max(id) FROM ticket_events WHERE kind = 'called'"))
    if call is None:
        clerk = hall.client("clerk")
        assert clerk.post("/api/v1/windows/4/call-next").json["call"]
        with hall.app.extensions["hall"].db.read() as s:
            call = s.scalar(text("SELECT max(id) FROM ticket_events WHERE kind = 'called'"))
    payload = {"call": call, "stage": "shown"} if event == "receipt" else {}
    got = {}
    for actor in ACTORS:
        socket = socketio.test_client(hall.app, flask_test_client=hall.client(actor))
        ack = socket.emit(event, payload, callback=True)
        got[actor] = ack == {"ok": True}
        if not got[actor]:
            assert ack["error"] == "forbidden", (actor, ack)
        socket.disconnect()
    assert {actor for actor, ok in got.items() if ok} == SCREEN_REPORTS[event]


def test_a_revoked_device_or_a_logged_out_clerk_joins_nothing_private(hall):
    socketio = hall.app.extensions["hall"].socketio
    clerk = hall.client("clerk")
    clerk.delete("/api/v1/session")
    socket = socketio.test_client(hall.app, flask_test_client=clerk)
    assert socket.emit("join", {"room": "window:4"}, callback=True)["error"] == "forbidden"
    screen = hall.app.test_client()
    assert screen.get(device_path(hall.app, "hall")).status_code == 302
    with hall.app.extensions["hall"].db.write() as s:
        listed = devices.list_devices(s, CHEAP.hall)
        hall_screen = next(d for d in listed if d["scope"] == "hall" and d["kind"] == "screen"
                           and d["issued_by"] == "demo")
        devices.revoke_device(s, "admin", hall_screen["id"], OPEN_NOW)
    try:
        socket = socketio.test_client(hall.app, flask_test_client=screen)
        assert socket.emit("join", {"room": "window:4"}, callback=True)["error"] == "forbidden"
        assert socket.emit("join", {"room": "hall"}, callback=True)["ok"]  # public anyway
    finally:
        with hall.app.extensions["hall"].db.write() as s:  # the module's other tests use it
            s.execute(text("UPDATE devices SET revoked_at = NULL, revoked_by = NULL "
                           "WHERE id = :id"), {"id": hall_screen["id"]})


# ---------------------------------------------------------------- the actor is the session's


def test_the_actor_of_workload_changes_is_the_logged_in_manager(tmp_path, hall_config, clock):
    app = hall_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'h.db'}")
    hall = app.extensions["hall"]
    with hall.db.write() as s:
        accounts.add_staff(s, "test", "wang.zr", "王主任", clock(), CHEAP, password="long enough")
        accounts.grant_role(s, "test", "wang.zr", "manager", clock(), CHEAP)
    manager = staff_client(app, "wang.zr", "long enough")
    r = manager.post("/api/v1/workload/auto", json={"enabled": True, "actor": "mallory"})
    assert r.status_code == 422  # an unknown field, not an actor
    assert manager.post("/api/v1/workload/auto", json={"enabled": True}).status_code == 200
    [change] = manager.get("/api/v1/workload/changes").json["changes"]
    assert (change["actor"], change["record"]["actor"]) == ("wang.zr", "wang.zr")
    hall.db.dispose()


# ---------------------------------------------------------------- callbacks seen before


def test_a_callback_signature_is_accepted_once_on_both_databases(any_db):
    t0 = OPEN_NOW
    stamp = str(int(t0.replace(tzinfo=dt.UTC).timestamp()))

    def remember(signature: str, at: dt.datetime, timestamp: str = stamp) -> None:
        with any_db.write() as s:
            remember_callback(s, "swj", signature, timestamp, at)

    remember("sha256=" + "a" * 64, t0)
    with pytest.raises(Conflict) as replay:
        remember("sha256=" + "a" * 64, t0 + dt.timedelta(seconds=299))
    assert replay.value.code == "replayed_callback"
    remember("sha256=" + "b" * 64, t0)  # another signature: fine
    # Two identical callbacks at the same instant: exactly one gets through.
    outcomes: list[str] = []

    def race(_: int) -> None:
        try:
            remember("sha256=" + "c" * 64, t0 + dt.timedelta(seconds=1))
            outcomes.append("accepted")
        except Conflict:
            outcomes.append("replayed")

    threads = [threading.Thread(target=race, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["accepted"] + ["replayed"] * 5
    # Once past its window a signature is dropped (its timestamp refuses it anyway).
    remember("sha256=" + "d" * 64, t0 + dt.timedelta(seconds=301))
    with any_db.read() as s:
        kept = set(s.scalars(text("SELECT signature FROM seen_callbacks")))
    assert kept == {"sha256=" + "d" * 64}


# ---------------------------------------------------------------- personal data at rest


def test_id_numbers_are_stored_encrypted_and_found_by_their_keyed_hash(any_db, hall_config):
    with any_db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
    number = flat_case(any_db, hall_config)
    # handed off to the departments' consoles: the payloads carry the identity too
    assert len(handoff.dispatch_due(any_db, backends_from_config({}, any_db), OPEN_NOW)
               .delivered) == 3
    with any_db.engine.connect() as conn:
        stored, hashed = conn.execute(
            text("SELECT applicant_id_number, applicant_id_hash FROM cases")).one()
        assert stored.startswith("v1:") and "330106198507201239" not in stored
        assert "19850720" not in stored and "330106198507201239" not in hashed
        # No column of any table holds the number in the clear (the hand-offs included).
        for table in metadata.sorted_tables:
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"')).all():  # raw
                assert "330106198507201239" not in " ".join(map(str, row)), table.name
    with any_db.read() as s:
        payload = s.scalars(select(ConsoleCase.payload)).first()
    assert payload["applicant"]["id_number"] == "330106198507201239"  # read back whole
    with any_db.read() as s:
        assert [c.number for c in cases_of_applicant(s, "330106198507201239")] == [number]
        assert cases_of_applicant(s, "330106198507201239".lower()) != []
        assert cases_of_applicant(s, "11010519491231002X") == []
        assert s.scalars(select(Case)).one().applicant_id_number == "330106198507201239"



# ---------------------------------------------------------------- limits and CSRF on real routes


def test_failed_look_ups_by_token_or_case_number_are_limited(tmp_path, hall_config, clock):
    config = dataclasses.replace(hall_config, raw={**hall_config.raw,
                                                   "security": {"lookup_rate": "4 per minute"}})
    app = hall_app(config, clock=clock, database_url=f"sqlite:///{tmp_path / 'h.db'}")
    citizen = app.test_client()
    token = citizen.post("/api/v1/tickets", json={"service": "enterprise"}).json["token"]
    for _ in range(10):  # a phone polling its own ticket is never limited
        assert citizen.get(f"/api/v1/tickets/{token}").status_code == 200
    guesses = [
        citizen.post("/api/v1/deliveries/check-in",
                     json={"case_number": f"SQ20261125-{n:04d}", "phone_last4": "8000"})
        for n in range(2)
    ] + [citizen.get(f"/t/guess{n}") for n in range(2)]
    assert [r.status_code for r in guesses] == [404] * 4
    assert citizen.get("/api/v1/tickets/guess").status_code == 429  # the fifth failure
    r = citizen.post("/api/v1/deliveries/check-in",
                     json={"case_number": "SQ20261125-0009", "phone_last4": "8000"})
    assert r.status_code == 429
    app.extensions["hall"].db.dispose()


def test_a_window_action_without_the_csrf_token_is_refused(hall):
    clerk = hall.client("clerk")
    forged = raw_client(hall.app)
    forged.set_cookie("session", clerk.get_cookie("session").value)  # the clerk's own cookie
    r = forged.post("/api/v1/windows/4/pause", json={"paused": True})
    assert r.status_code == 403 and r.json["error"] == "csrf_failed"
    assert clerk.get("/api/v1/windows/4").json["state"] != "paused"
