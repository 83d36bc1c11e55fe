"""The API's contract: the OpenAPI document covers every route under /api/v1, the page that
shows it works offline, and what Socket.IO pushes matches the published event schemas."""

from __future__ import annotations

import re
import time

import pytest
from jsonschema import Draft202012Validator

from tests.support.web import device_client, hall_app, staff_client, window_client


@pytest.fixture(scope="module")
def app(tmp_path_factory, hall_config):
    from tests.conftest import StepClock

    path = tmp_path_factory.mktemp("contract") / "hall.db"
    app = hall_app(hall_config, clock=StepClock(), database_url=f"sqlite:///{path}",
                   always_open=True)
    yield app
    app.extensions["hall"].db.dispose()


@pytest.fixture(scope="module")
def document(app):
    answer = app.test_client().get("/api/v1/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    return answer.get_json()


def openapi_path(rule: str) -> str:
    """``/windows/<int:number>/login`` → ``/windows/{number}/login``."""
    return re.sub(r"<(?:[^<>]*:)?([A-Za-z_][A-Za-z0-9_]*)>", r"{\1}", rule)


def test_every_api_route_is_in_the_document(app, document):
    missing = [
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        if method.lower() not in document["paths"].get(openapi_path(rule.rule), {})
    ]
    assert missing == []


def test_every_operation_says_what_it_answers(document):
    assert document["openapi"].startswith("3.1")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            answers = operation["responses"]
            assert any(status.startswith("2") for status in answers), where
            assert "422" in answers, where
            for status, answer in answers.items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if status.startswith("4"):
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, where
            if "{" in path:
                assert "404" in answers, where
            if "requestBody" in operation:
                assert "413" in answers, where
    error = document["components"]["schemas"]["ErrorBody"]
    assert set(error["required"]) == {"error", "message"}


def test_request_bounds_are_in_the_document(document):
    schemas = document["components"]["schemas"]
    booking = schemas["BookAppointment"]["properties"]
    assert booking["slot_minutes"]["maximum"] == 240
    assert "[0-9]" in booking["slot_start"]["pattern"]
    window = next(p for p in document["paths"]["/api/v1/windows/{number}"]["get"]["parameters"]
                  if p["name"] == "number")
    assert window["schema"]["maximum"] < 2**31
    token = document["paths"]["/api/v1/tickets/{token}"]["get"]["parameters"][0]
    assert token["schema"]["maxLength"] == 200


def test_the_browsable_page_is_served_from_the_hall(app):
    client = app.test_client()
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert "<script>" not in html  # no inline script: the page keeps a strict CSP
    for source in sources:
        assert client.get(source).status_code == 200, source
    script = client.get("/static/js/api_docs.js").get_data(as_text=True)
    assert "validatorUrl: null" in script  # Swagger UI would call an outside validator


def events(client) -> dict[str, list]:
    found: dict[str, list] = {}
    for event in client.get_received():
        found.setdefault(event["name"], []).extend(event["args"])
    return found


def test_pushed_payloads_match_the_published_schemas(app):
    published = app.test_client().get("/api/v1/socketio-schemas.json").get_json()

    def check(name: str, payload: object) -> None:
        schema = {**published["events"][name]["payload"], "$defs": published["$defs"]}
        errors = sorted(Draft202012Validator(schema).iter_errors(payload), key=str)
        assert not errors, (name, [e.message for e in errors][:3])

    socketio = app.extensions["hall"].socketio
    clerk, boss = window_client(app, 4, "c01"), staff_client(app, "manager")
    hall_screen = socketio.test_client(app)
    window_screen = socketio.test_client(app, flask_test_client=clerk)
    manager = socketio.test_client(app, flask_test_client=boss)
    check("join", {"room": "hall"})
    for client, room in ((hall_screen, "hall"), (window_screen, "window:4"),
                         (manager, "manager")):
        assert client.emit("join", {"room": room}, callback=True)["ok"] is True

    kiosk = app.test_client()
    assert kiosk.post("/api/v1/tickets", json={"service": "enterprise"}).status_code == 201
    assert clerk.post("/api/v1/windows/4/call-next").status_code == 200
    assert clerk.post("/api/v1/windows/4/recall", json={"ticket": "B001"}).status_code == 200
    assert manager.emit("join", {"room": "manager"}, callback=True)["ok"] is True
    device = socketio.test_client(app, flask_test_client=device_client(app, "hall"))
    assert device.emit("join", {"room": "hall"}, callback=True)["ok"] is True
    seq = clerk.get("/api/v1/windows/4/reach").json["call"]
    for report in ({"call": seq, "stage": "shown"}, {"call": seq, "repeat": None,
                                                     "stage": "spoken"}):
        check("receipt", report)
        assert device.emit("receipt", report, callback=True) == {"ok": True}
    check("heartbeat", {})
    assert device.emit("heartbeat", {}, callback=True) == {"ok": True}
    time.sleep(0.5)  # the reports are counted and pushed together (Publisher.REACH_EVERY)
    assert clerk.post("/api/v1/windows/4/reannounce", json={"ticket": "B001"}).status_code == 200
    auto = boss.post("/api/v1/workload/auto", json={"enabled": True})
    assert auto.status_code == 200

    pushed = {}
    for client in (hall_screen, window_screen, manager):
        for name, payloads in events(client).items():
            pushed.setdefault(name, []).extend(payloads)
    assert {"snapshot", "queue", "call", "window", "workload", "reach"} <= set(pushed), set(pushed)
    for name, payloads in pushed.items():
        for payload in payloads:
            check(name, payload)
    assert any(call["recall"] for call in pushed["call"])
    assert any(call.get("repeat") for call in pushed["call"])
    assert any(reach["shown"] == reach["spoken"] == 1 for reach in pushed["reach"])
