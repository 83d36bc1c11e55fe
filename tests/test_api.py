"""The JSON API through the Flask test client: happy paths and every kind of bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from hall_ops.staff import devices
from tests.support.web import CHEAP, hall_app, staff_client


@pytest.fixture
def app(tmp_path, hall_config, clock):
    app = hall_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'hall.db'}")
    yield app
    app.extensions["hall"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def clerk_at(app, window: int, clerk: str):
    c = app.test_client()
    r = c.post(f"/api/v1/windows/{window}/login", json={"clerk": clerk, "pin": "1234"})
    assert r.status_code == 200, r.json
    return c


def take(client, service="enterprise", **extra):
    r = client.post("/api/v1/tickets", json={"service": service, **extra})
    assert r.status_code == 201, r.json
    return r.json


def test_hall_layout(client):
    r = client.get("/api/v1/hall")
    assert r.status_code == 200
    body = r.json
    assert {z["code"] for z in body["zones"]} == {
        "front_intake", "back_approval", "public_affairs", "egov_experience", "business"}
    assert len(body["windows"]) >= 20 and body["open"] is True
    assert {s["board"] for s in body["services"]} >= {
        "investment", "enterprise", "real_estate", "non_resident"}


def test_take_ticket_and_follow_it(client, app):
    first = take(client)
    second = take(client)
    assert first["number"] == "B001" and second["number"] == "B002"
    r = client.get(f"/api/v1/tickets/{first['token']}")
    assert r.status_code == 200 and r.json["status"] == "waiting"
    assert r.json["people_ahead"] == 0
    assert r.json["status_url"].endswith(f"/t/{first['token']}")
    clerk = clerk_at(app, 4, "c01")
    called = clerk.post("/api/v1/windows/4/call-next").json
    assert called["call"]["ticket"] == "B001" and called["call"]["window"] == 4
    assert client.get(f"/api/v1/tickets/{first['token']}").json["status"] == "called"
    assert clerk.post("/api/v1/windows/4/start", json={"ticket": "B001"}).status_code == 200
    done = clerk.post("/api/v1/windows/4/finish").json
    assert done["ticket"] is None and done["state"] == "idle"
    assert client.get(f"/api/v1/tickets/{first['token']}").json["status"] == "done"


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"service": "nope"}, 404, "unknown_service"),
        ({}, 422, "missing_field"),
        ({"service": 7}, 422, "invalid_field"),
        ({"service": "enterprise", "priority": "vip"}, 422, "invalid_priority"),
    ],
)
def test_take_ticket_bad_input(client, body, status, code):
    r = client.post("/api/v1/tickets", json=body)
    assert r.status_code == status and r.json["error"] == code and r.json["message"]


def test_not_json_is_400_or_422(client):
    r = client.post("/api/v1/tickets", data="not json", content_type="application/json")
    assert r.status_code == 422 and r.json["error"] == "bad_json"
    r = client.post("/api/v1/tickets", json=["a"])
    assert r.status_code == 422


def test_closed_hall(tmp_path, hall_config):
    sunday = dt.datetime(2026, 11, 29, 2, 0)
    app = hall_app(hall_config, clock=lambda: sunday,
                     database_url=f"sqlite:///{tmp_path / 'h.db'}", secret_key="t")
    r = app.test_client().post("/api/v1/tickets", json={"service": "enterprise"})
    assert r.status_code == 409 and r.json["error"] == "hall_closed"
    assert app.test_client().get("/api/v1/hall").json["open"] is False


def test_finished_ticket_acted_on_again(client, app):
    take(client)
    clerk = clerk_at(app, 4, "c01")
    clerk.post("/api/v1/windows/4/call-next")
    clerk.post("/api/v1/windows/4/start")
    assert clerk.post("/api/v1/windows/4/finish").status_code == 200
    r = clerk.post("/api/v1/windows/4/finish")
    assert r.status_code == 409 and r.json["error"] == "no_current_ticket"
    r = clerk.post("/api/v1/windows/4/recall", json={"ticket": "B001"})
    assert r.status_code == 409


def test_stale_console_guard(client, app):
    take(client)
    clerk = clerk_at(app, 4, "c01")
    clerk.post("/api/v1/windows/4/call-next")
    r = clerk.post("/api/v1/windows/4/start", json={"ticket": "B099"})
    assert r.status_code == 409 and r.json["error"] == "ticket_not_current"


def test_window_not_serving_that_service(client, app):
    take(client)
    clerk = clerk_at(app, 4, "c01")
    clerk.post("/api/v1/windows/4/call-next")
    r = clerk.post("/api/v1/windows/4/transfer", json={"service": "real_estate", "window": 8})
    assert r.status_code == 409 and r.json["error"] == "window_closed"  # nobody would call it
    other = clerk_at(app, 8, "c02")
    r = clerk.post("/api/v1/windows/4/transfer", json={"service": "real_estate", "window": 5})
    assert r.status_code == 422 and r.json["error"] == "window_does_not_serve"
    r = clerk.post("/api/v1/windows/4/transfer", json={"service": "real_estate", "window": 8})
    assert r.status_code == 200 and r.json["ticket"] is None
    assert other.post("/api/v1/windows/8/call-next").json["call"]["ticket"] == "B001"


def test_window_actions_need_login(client, app):
    r = client.post("/api/v1/windows/4/call-next")
    assert r.status_code == 401 and r.json["error"] == "login_required"
    r = client.post("/api/v1/windows/4/login", json={"clerk": "c01", "pin": "9999"})
    assert r.status_code == 401 and r.json["error"] == "bad_credentials"
    r = client.post("/api/v1/windows/999/login", json={"clerk": "c01", "pin": "1234"})
    assert r.status_code == 403 and r.json["error"] == "window_not_allowed"
    clerk = clerk_at(app, 4, "c01")
    r = clerk.post("/api/v1/windows/5/call-next")  # logged in elsewhere
    assert r.status_code == 403 and r.json["error"] == "forbidden"
    r = clerk_at(app, 5, "c02").post("/api/v1/windows/4/login",
                                     json={"clerk": "c02", "pin": "1234"})
    assert r.status_code == 409


def test_empty_queue_call_next(app):
    clerk = clerk_at(app, 4, "c01")
    r = clerk.post("/api/v1/windows/4/call-next")
    assert r.status_code == 200 and r.json["ticket"] is None and r.json["message"]


def test_no_show_after_recalls(client, app):
    take(client)
    clerk = clerk_at(app, 4, "c01")
    clerk.post("/api/v1/windows/4/call-next")
    r = clerk.post("/api/v1/windows/4/no-show")
    assert r.status_code == 409 and r.json["error"] == "recall_first"
    clerk.post("/api/v1/windows/4/recall")
    clerk.post("/api/v1/windows/4/recall")
    assert clerk.post("/api/v1/windows/4/no-show").status_code == 200


def test_appointment_flow(client, clock, hall_config):
    local = (clock.now + dt.timedelta(hours=8, minutes=10)).strftime("%Y-%m-%dT%H:%M")
    r = client.post("/api/v1/appointments", json={
        "service": "real_estate", "slot_start": local, "slot_minutes": 30, "name": "李四"})
    assert r.status_code == 201, r.json
    code = r.json["code"]
    r = client.post(f"/api/v1/appointments/{code}/check-in")
    assert r.status_code == 201 and r.json["priority"] == "appointment"
    assert client.post(f"/api/v1/appointments/{code}/check-in").status_code == 409
    assert client.post("/api/v1/appointments/000000x/check-in").status_code == 404
    r = client.post("/api/v1/appointments", json={
        "service": "real_estate", "slot_start": "tomorrow", "name": "李四"})
    assert r.status_code == 422


def test_cancel_and_unknown_ticket(client):
    t = take(client)
    assert client.post(f"/api/v1/tickets/{t['token']}/cancel").json["status"] == "cancelled"
    assert client.post(f"/api/v1/tickets/{t['token']}/cancel").status_code == 409
    assert client.get("/api/v1/tickets/nope").status_code == 404


def test_queue_snapshot_and_calls(client, app):
    take(client)
    take(client)
    clerk = clerk_at(app, 4, "c01")
    clerk.post("/api/v1/windows/4/call-next")
    snap = client.get("/api/v1/queue").json
    enterprise = next(s for s in snap["services"] if s["code"] == "enterprise")
    assert enterprise["waiting"] == 1 and enterprise["open_windows"] == 1
    w4 = next(w for w in snap["windows"] if w["number"] == 4)
    assert w4["state"] == "calling" and w4["ticket"] == "B001"
    calls = client.get("/api/v1/calls?zone=front_intake").json["calls"]
    assert calls[0]["ticket"] == "B001"
    assert client.get("/api/v1/calls?limit=abc").status_code == 422


def test_unknown_api_route_is_json(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json["error"] == "not_found"
    r = client.get("/api/v1/tickets")
    assert r.status_code == 405 and r.is_json


def test_restart_loses_nothing(tmp_path, hall_config, clock):
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    first = hall_app(hall_config, clock=clock, database_url=url, secret_key="t")
    token = take(first.test_client())["token"]
    first.extensions["hall"].db.dispose()

    second = hall_app(hall_config, clock=clock, database_url=url, secret_key="t")
    client = second.test_client()
    assert client.get(f"/api/v1/tickets/{token}").json["status"] == "waiting"
    assert take(client)["number"] == "B002"
    called = clerk_at(second, 4, "c01").post("/api/v1/windows/4/call-next").json
    assert called["call"]["ticket"] == "B001"
    second.extensions["hall"].db.dispose()


def test_report_endpoint_json_and_csv(app):
    client = staff_client(app, "manager")
    take(client)
    clerk = clerk_at(app, 4, "c01")
    clerk.post("/api/v1/windows/4/call-next")
    r = client.get("/api/v1/reports/tickets?from=2026-11-25&group_by=window")
    assert r.status_code == 200 and r.json["rows"][0]["key"] == "4"
    r = client.get("/api/v1/reports/tickets?from=2026-11-25&group_by=service&format=csv")
    assert r.mimetype == "text/csv" and "enterprise" in r.get_data(as_text=True)
    assert client.get("/api/v1/reports/tickets?from=yesterday").status_code == 422
    assert client.get("/api/v1/reports/tickets?group_by=colour").status_code == 422


def test_rating_endpoint(client, app):
    token = take(client)["token"]
    clerk = clerk_at(app, 4, "c01")
    assert client.post(f"/api/v1/tickets/{token}/rating", json={"level": 5}).status_code == 409
    clerk.post("/api/v1/windows/4/call-next")
    clerk.post("/api/v1/windows/4/start")
    clerk.post("/api/v1/windows/4/finish")
    assert client.post(f"/api/v1/tickets/{token}/rating", json={"level": "x"}).status_code == 422
    r = client.post(f"/api/v1/tickets/{token}/rating", json={"level": 2})
    assert (r.status_code, r.json["error"]) == (422, "tags_required")
    r = client.post(f"/api/v1/tickets/{token}/rating", json={"level": 4, "tags": ["attitude"]})
    assert (r.status_code, r.json["error"]) == (422, "invalid_tags")
    r = client.post(f"/api/v1/tickets/{token}/rating", json={"level": 4, "comment": "好"})
    assert r.status_code == 201 and r.json["level_code"] == "satisfied"
    assert r.json["channel"] == "ticket_page" and r.json["follow_up_open"]
    assert client.get(f"/api/v1/tickets/{token}").json["rating"]["level"] == 4
    r = client.post(f"/api/v1/tickets/{token}/rating/follow-up", json={"text": "材料一次讲清"})
    assert r.status_code == 200 and r.json["follow_up"] == "材料一次讲清"
    assert not r.json["follow_up_open"]
    assert client.post(f"/api/v1/tickets/{token}/rating/follow-up",
                       json={"text": "再补一句"}).json["error"] == "already_followed_up"


def test_collect_a_result_and_hand_it_over(client, app, clock):
    from hall_ops.cases import notices
    from hall_ops.cases.intake import get_case, set_item_status
    from tests.test_intake import flat_case

    db = app.extensions["hall"].db
    number = flat_case(db, app.extensions["hall"].config)
    check_in = "/api/v1/deliveries/check-in"
    r = client.post(check_in, json={"case_number": number, "phone_last4": "8000"})
    assert r.status_code == 409 and r.json["error"] == "result_not_ready"
    with db.write() as s:
        for item in get_case(s, number).items:
            set_item_status(s, number, item.item_code, "in_review", "a", now=clock.now)
            set_item_status(s, number, item.item_code, "approved", "a", now=clock.now)
    notices.notify_ready(db, {}, clock.now)
    wrong_phone = client.post(check_in, json={"case_number": number, "phone_last4": "0000"})
    wrong_case = client.post(check_in, json={"case_number": "SQ20261125-0999",
                                             "phone_last4": "8000"})
    assert wrong_phone.status_code == wrong_case.status_code == 404
    assert wrong_phone.json == wrong_case.json  # nothing tells which case numbers exist
    r = client.post(check_in, json={"case_number": number, "phone_last4": "8000"})
    assert r.status_code == 201 and r.json["service"] == "delivery"
    assert r.json["case"]["result_ready"] is True
    assert r.json["case"]["notice"] == "not_notified"  # no channel configured: nobody told
    clerk = clerk_at(app, 14, "c14")
    clerk.post("/api/v1/windows/14/call-next")
    assert clerk.post("/api/v1/windows/14/hand-over").json["error"] == "not_serving"
    clerk.post("/api/v1/windows/14/start")
    r = clerk.post("/api/v1/windows/14/hand-over")
    assert r.status_code == 409 and r.json["error"] == "gaps_outstanding"  # accepted with gaps
    r = clerk.post("/api/v1/windows/14/hand-over",
                   json={"confirm_gaps": True, "reason": "承诺书已签，先行出件"})
    assert r.status_code == 200 and r.json["case_number"] == number
    assert client.get(f"/api/v1/tickets/{r.json['window']['ticket']['token']}").json["case"][
        "handed_over"] is True


def test_case_report_per_department(app, clock):
    client = staff_client(app, "manager")
    from hall_ops.cases.intake import get_case, set_item_status
    from tests.test_intake import flat_case

    db = app.extensions["hall"].db
    number = flat_case(db, app.extensions["hall"].config)
    with db.write() as s:
        first = get_case(s, number).items[0]
        set_item_status(s, number, first.item_code, "in_review", "a", now=clock.now)
        set_item_status(s, number, first.item_code, "approved", "a", now=clock.now)
    r = client.get("/api/v1/reports/cases?from=2026-11-25")
    assert r.status_code == 200
    rows = {row["department"]: row for row in r.json["rows"]}
    assert set(rows) == {"bdc", "zjj", "swj"}  # the flat sale: three departments, one trip
    assert all(row["cases"] == 1 and row["mean_windows_visited"] == 1 for row in rows.values())
    assert sum(row["decided"] for row in rows.values()) == 1
    assert sum(row["decided_within_limit"] for row in rows.values()) == 1
    csv_text = client.get("/api/v1/reports/cases?from=2026-11-25&format=csv").get_data(as_text=True)
    assert csv_text.splitlines()[0].lstrip("\ufeff").startswith("department,department_name_zh")
    assert client.get("/api/v1/reports/cases?from=2026-11-25&to=2026-11-01").status_code == 422


def test_window_side_rating_pad(client, app, clock):
    """The pad beside a window (a device; a manager may open it too)."""
    take(client)
    pad = staff_client(app, "manager")
    clerk = clerk_at(app, 4, "c01")
    assert pad.get("/api/v1/windows/4/rating-pad").json["ticket"] is None
    clerk.post("/api/v1/windows/4/call-next")
    clerk.post("/api/v1/windows/4/start")
    clerk.post("/api/v1/windows/4/finish")
    offered = pad.get("/api/v1/windows/4/rating-pad").json["ticket"]
    assert offered["number"] == "B001"
    with app.extensions["hall"].db.write() as s:
        _, secret = devices.issue_device(s, "test", "pad", "4号窗口评价器", "window:4",
                                         clock.now, CHEAP)
    device = app.test_client()
    assert device.get(devices.device_link("pad", "window:4", secret)).status_code == 302
    r = device.post(f"/api/v1/tickets/{offered['token']}/rating",
                    json={"level": 5, "channel": "kiosk"})
    assert r.status_code == 422  # the channel is the caller's device, never the body's word
    r = device.post(f"/api/v1/tickets/{offered['token']}/rating", json={"level": 5})
    assert (r.status_code, r.json["channel"]) == (201, "window_pad")
    assert pad.get("/api/v1/windows/4/rating-pad").json["ticket"] is None
    assert pad.get("/api/v1/windows/999/rating-pad").status_code == 404
    assert pad.get("/pad?window=4").status_code == 200
    assert pad.get("/pad?window=x").status_code == 404
    assert client.get("/api/v1/windows/4/rating-pad").status_code == 401
