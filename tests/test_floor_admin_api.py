"""The hall floor through the API (``/api/v1/admin/floor``): validation, access, the actor
of the trail from the session, screens told at once, and a restart keeping the changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hall_ops.floor.models import FloorChange
from tests.support.web import hall_app, received_until, staff_client, window_client

FLOOR = "/api/v1/admin/floor"


@pytest.fixture
def app(tmp_path, hall_config, clock):
    app = hall_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'hall.db'}")
    yield app
    app.extensions["hall"].db.dispose()


@pytest.fixture
def admin(app):
    return staff_client(app, "admin")


def test_the_floor_lists_zones_services_windows_and_boards(admin):
    floor = admin.get(FLOOR).json
    assert [z["code"] for z in floor["zones"]][:2] == ["front_intake", "back_approval"]
    assert next(z for z in floor["zones"] if z["code"] == "back_approval")["window_kinds"] == \
        ["approval"]
    assert {s["code"] for s in floor["services"]} >= {"enterprise", "notary"}
    four = next(w for w in floor["windows"] if w["number"] == 4)
    assert (four["services"], four["current"], four["retired_at"]) == (["enterprise"],
                                                                      ["enterprise"], None)
    assert {b["code"] for b in floor["boards"]} == {"investment", "enterprise", "real_estate",
                                                     "non_resident"}


def test_a_new_window_is_listed_and_on_the_public_snapshot_at_once(app, admin):
    r = admin.post(f"{FLOOR}/windows", json={"number": 31, "zone": "public_affairs",
                                             "kind": "general", "services": ["notary"]})
    assert r.status_code == 201, r.json
    assert r.json == {"number": 31, "zone": "public_affairs", "kind": "general",
                      "services": ["notary"], "current": ["notary"], "state": "closed",
                      "retired_at": None}
    queue = app.test_client().get("/api/v1/queue").json
    assert any(w["number"] == 31 for w in queue["windows"])


@pytest.mark.parametrize(("path", "body", "status", "code"), [
    ("/zones", {"code": "Annex"}, 422, "invalid_field"),
    ("/zones", {"code": "business"}, 409, "zone_exists"),
    ("/services", {"code": "tax", "letter": "t", "name_zh": "税务", "name_en": "Tax",
                   "zone": "front_intake"}, 422, "invalid_field"),
    ("/services", {"code": "tax", "letter": "A", "name_zh": "税务", "name_en": "Tax",
                   "zone": "front_intake"}, 409, "letter_taken"),
    ("/services", {"code": "tax", "letter": "T", "name_zh": "税务", "name_en": "Tax",
                   "zone": "nowhere"}, 422, "unknown_zone"),
    ("/services", {"code": "tax", "letter": "T", "name_zh": "税务", "name_en": "Tax",
                   "zone": "front_intake", "board": "bakery"}, 422, "invalid_field"),
    ("/services", {"code": "tax", "letter": "T", "name_zh": "税务", "name_en": "Tax",
                   "zone": "front_intake", "actor": "mallory"}, 422, "invalid_field"),
    ("/windows", {"number": 4, "zone": "front_intake", "kind": "intake",
                  "services": ["enterprise"]}, 409, "window_exists"),
    ("/windows", {"number": 32, "zone": "back_approval", "kind": "intake",
                  "services": ["enterprise"]}, 422, "kind_not_in_zone"),
    ("/windows", {"number": 32, "zone": "front_intake", "kind": "intake", "services": []},
     422, "invalid_field"),
    ("/windows", {"number": 0, "zone": "front_intake", "kind": "intake",
                  "services": ["enterprise"]}, 422, "invalid_field"),
])
def test_refusals_are_json_with_their_status(admin, path, body, status, code):
    r = admin.post(FLOOR + path, json=body)
    assert (r.status_code, r.json["error"]) == (status, code), r.json
    assert r.json["message"]


def test_edits_answer_404_for_what_does_not_exist_and_refuse_nulls(admin):
    assert admin.patch(f"{FLOOR}/services/bakery", json={"name_zh": "x"}).status_code == 404
    assert admin.patch(f"{FLOOR}/zones/nowhere", json={"name_zh": "x"}).status_code == 404
    assert admin.patch(f"{FLOOR}/windows/999", json={"kind": "general"}).status_code == 404
    r = admin.patch(f"{FLOOR}/services/notary", json={"name_zh": None})
    assert (r.status_code, r.json["field"]) == (422, "name_zh")


def test_a_busy_window_is_not_retired(app, admin):
    window_client(app, 4, "c04")
    r = admin.post(f"{FLOOR}/windows/4/retire")
    assert (r.status_code, r.json["error"]) == (409, "window_open")
    r = admin.post(f"{FLOOR}/windows/24/retire")
    assert r.status_code == 200 and r.json["retired_at"]
    r = app.test_client().post("/api/v1/windows/24/login", json={"clerk": "c05", "pin": "1234"})
    assert (r.status_code, r.json["error"]) == (409, "window_retired")
    assert admin.post(f"{FLOOR}/windows/24/reinstate").json["retired_at"] is None


@pytest.mark.parametrize("login", ["manager", "c04"])
def test_managers_and_clerks_are_refused(app, login):
    client = window_client(app, 4, login) if login == "c04" else staff_client(app, login)
    assert client.get(FLOOR).status_code == 403
    r = client.patch(f"{FLOOR}/services/notary", json={"name_zh": "公证"})
    assert (r.status_code, r.json["error"]) == (403, "forbidden")
    assert client.get("/admin/floor").status_code == 403


def test_the_trail_names_the_admin_of_the_session(app, admin):
    r = admin.patch(f"{FLOOR}/services/notary", json={"name_zh": "公证处", "board": None})
    assert r.status_code == 200 and r.json["name_zh"] == "公证处"
    changes = admin.get(f"{FLOOR}/changes?subject=service:notary").json["changes"]
    assert [(c["actor"], c["kind"], c["before"], c["after"]) for c in changes] == [
        ("admin", "edit_service", {"name_zh": "公证服务"}, {"name_zh": "公证处"})]
    with app.extensions["hall"].db.read() as s:
        row = s.scalars(select(FloorChange)).one()
        assert row.origin  # the caller's address, from the write session


def test_screens_get_the_renamed_service_at_once(app, admin):
    socketio = app.extensions["hall"].socketio
    screen = socketio.test_client(app)
    assert screen.emit("join", {"room": "zone:public_affairs"}, callback=True)["ok"]
    screen.get_received()
    assert admin.patch(f"{FLOOR}/services/notary", json={"name_en": "Notaries"}).status_code \
        == 200
    received_until(screen, "queue", lambda snapshot: next(
        s for s in snapshot["services"] if s["code"] == "notary")["name_en"] == "Notaries")
    screen.disconnect()


def test_a_new_zones_screen_gets_the_queue(app, admin):
    assert admin.post(f"{FLOOR}/zones", json={"code": "annex", "name_zh": "附楼",
                                              "name_en": "Annex"}).status_code == 201
    socketio = app.extensions["hall"].socketio
    screen = socketio.test_client(app)
    assert screen.emit("join", {"room": "zone:annex"}, callback=True)["ok"]
    screen.get_received()
    r = admin.post(f"{FLOOR}/services", json={"code": "tax", "letter": "T", "name_zh": "税务",
                                              "name_en": "Tax", "zone": "annex"})
    assert r.status_code == 201, r.json
    received_until(screen, "queue",
                   lambda snapshot: any(s["code"] == "tax" for s in snapshot["services"]))
    screen.disconnect()


def test_changes_survive_a_restart_and_config_does_not_undo_them(tmp_path, hall_config, clock):
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    app = hall_app(hall_config, clock=clock, database_url=url)
    admin = staff_client(app, "admin")
    assert admin.patch(f"{FLOOR}/zones/business", json={"name_zh": "商务服务区"}).status_code \
        == 200
    assert admin.patch(f"{FLOOR}/services/notary",
                       json={"letter": "N", "zone": "business"}).status_code == 200
    assert admin.post(f"{FLOOR}/windows", json={"number": 33, "zone": "business",
                                                "kind": "general",
                                                "services": ["notary"]}).status_code == 201
    assert admin.patch(f"{FLOOR}/windows/4", json={"services": ["enterprise", "investment"]}
                       ).status_code == 200
    assert admin.post(f"{FLOOR}/windows/5/retire").status_code == 200
    app.extensions["hall"].db.dispose()

    again = hall_app(hall_config, clock=clock, database_url=url)
    try:
        floor = staff_client(again, "admin").get(FLOOR).json
        assert next(z for z in floor["zones"] if z["code"] == "business")["name_zh"] == \
            "商务服务区"
        notary = next(s for s in floor["services"] if s["code"] == "notary")
        assert (notary["letter"], notary["zone"]) == ("N", "business")
        windows = {w["number"]: w for w in floor["windows"]}
        assert windows[33]["services"] == ["notary"]
        assert windows[4]["services"] == ["enterprise", "investment"]
        assert windows[5]["retired_at"] is not None
        r = again.test_client().post("/api/v1/tickets", json={"service": "notary"})
        assert r.status_code == 201 and r.json["number"].startswith("N")
    finally:
        again.extensions["hall"].db.dispose()
