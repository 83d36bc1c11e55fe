"""The root of a deployment for regional staff: their login, the regional overview (page and
API, live figures per hall and per node, each manager's part of the hierarchy) and the halls
admin (add, rename, disable, enable, move; the audit row's actor from the session). Every
root route is in the access table below, tried as each kind of caller."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from hall_ops.region.admin import rename_hall
from hall_ops.staff import accounts
from hall_ops.staff.demo import DEMO_PASSWORD, create_demo_staff
from hall_web.access import views_without_rule
from hall_web.commands import create_admin
from hall_web.deployment import create_deployment
from tests.conftest import OPEN_NOW, StepClock
from tests.support.web import CHEAP, DEVICE_SECRET, UNSAFE
from tests.test_deployment import write_deployment

PASSWORD = "regional secret"
REGIONAL = {  # login: (role, node its grant names)
    "boss": ("manager", "region"),      # the city: both halls
    "gao": ("manager", "b"),            # the township only
    "admin": ("admin", "region"),
    "badmin": ("admin", "b"),
    "clerky": ("clerk", "a"),           # a regional account without manager or admin
}
ACTORS = ("anonymous", "hall_manager", "clerky", "gao", "boss", "admin")
"""``hall_manager``: hall a's own manager, logged in at /h/a/ (nobody at the root)."""
EVERYONE = set(ACTORS)
MANAGERS = {"gao", "boss"}

# (method, rule): (URL, callers admitted, JSON body of a change)
ROUTES: dict[tuple[str, str], tuple[str, set[str], Any]] = {
    ("GET", "/"): ("/", EVERYONE, None),
    ("GET", "/static/<path:filename>"): ("/static/css/hall.css", EVERYONE, None),
    ("GET", "/api/v1/halls"): ("/api/v1/halls", EVERYONE, None),
    ("GET", "/login"): ("/login", EVERYONE, None),
    ("POST", "/login"): ("/login", EVERYONE, None),
    ("POST", "/logout"): ("/logout", EVERYONE, None),
    ("GET", "/api/v1/session"): ("/api/v1/session", EVERYONE, None),
    ("POST", "/api/v1/session"): ("/api/v1/session", EVERYONE, None),
    ("DELETE", "/api/v1/session"): ("/api/v1/session", EVERYONE, None),
    ("GET", "/region"): ("/region", MANAGERS, None),
    ("GET", "/api/v1/region/overview"): ("/api/v1/region/overview", MANAGERS, None),
    ("GET", "/admin/halls"): ("/admin/halls", {"admin"}, None),
    ("GET", "/api/v1/admin/halls"): ("/api/v1/admin/halls", {"admin"}, None),
    ("POST", "/api/v1/admin/halls"): ("/api/v1/admin/halls", {"admin"}, {
        "code": "c", "name_zh": "新区中心", "name_en": "New Centre", "level": "township",
        "parent": "a", "template": "b"}),
    ("PATCH", "/api/v1/admin/halls/<code>"): ("/api/v1/admin/halls/b", {"admin"},
                                              {"name_zh": "青山镇", "name_en": "Qingshan"}),
}


class RootClient(FlaskClient):
    """A browser on the deployment: sends the CSRF token of the app it is talking to (the
    hall's under /h/<code>/, else the root's), as the pages do."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        path = str(args[0]) if args else str(kwargs.get("path", "/"))
        if str(kwargs.get("method", "GET")).upper() in UNSAFE:
            prefix = "/".join(path.split("/")[:3]) if path.startswith("/h/") else ""
            headers = Headers(kwargs.get("headers") or {})
            if "X-CSRFToken" not in headers:
                headers["X-CSRFToken"] = self.get(f"{prefix}/api/v1/session").json["csrf_token"]
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """region (a city, no floor) → a (district) → b (township), with the regional staff."""
    url = "sqlite:///instance/deployment.db" if request.param == "sqlite" \
        else request.getfixturevalue("pg_url")
    app = create_deployment(write_deployment(tmp_path, url), clock=StepClock(),
                            always_open=True, staff_policy=CHEAP)
    app.testing = True
    app.test_client_class = RootClient
    for hall_app in app.extensions["halls"].values():
        hall_app.testing = True
        hall = hall_app.extensions["hall"]
        with hall.db.write() as s:
            create_demo_staff(s, hall.config, hall.clock(), CHEAP, device_secret=DEVICE_SECRET)
    with app.extensions["deployment"].db.write() as s:
        for login, (role, node) in REGIONAL.items():
            accounts.add_staff(s, None, login, login.title(), OPEN_NOW, CHEAP, password=PASSWORD)
            accounts.grant_role(s, None, login, role, OPEN_NOW, CHEAP, hall=node)
    yield app
    app.extensions["deployment"].dispose()


def client_as(root: Flask, actor: str) -> FlaskClient:
    client = root.test_client()
    if actor == "hall_manager":
        r = client.post("/h/a/api/v1/session", json={"login": "manager", "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.json
    elif actor != "anonymous":
        r = client.post("/api/v1/session", json={"login": actor, "password": PASSWORD})
        assert r.status_code == 200, r.json
    return client


def test_every_root_route_has_a_rule_and_a_row(root: Flask) -> None:
    assert views_without_rule(root) == []
    rules = {(method, rule.rule) for rule in root.url_map.iter_rules()
             for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert rules == set(ROUTES)


@pytest.mark.parametrize("actor", ACTORS)
def test_who_may_use_each_root_route(root: Flask, actor: str) -> None:
    for (method, _rule), (url, admitted, body) in ROUTES.items():
        if method == "POST" and url in ("/login", "/api/v1/session", "/logout") or \
                method == "DELETE":
            continue  # logins and logouts: their own tests
        client = client_as(root, actor)
        response = client.open(url, method=method, json=body)
        refused = response.status_code in (401, 403) or (
            response.status_code == 302 and "/login" in response.headers["Location"])
        assert refused is (actor not in admitted), (actor, method, url, response.status_code)


def test_the_login_is_the_deployments_and_a_wrong_password_is_refused(root: Flask) -> None:
    client = root.test_client()
    wrong = client.post("/api/v1/session", json={"login": "boss", "password": "nope nope"})
    assert (wrong.status_code, wrong.json["error"]) == (401, "bad_credentials")
    # a hall's manager is nobody at the root (its staff live in the hall's database)
    assert client.post("/api/v1/session", json={"login": "manager", "password": DEMO_PASSWORD}
                       ).status_code == 401
    page = client.get("/region")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=/region")
    form = client.post("/login", data={"login": "boss", "password": PASSWORD, "next": "/region",
                                       "csrf_token": client.get("/api/v1/session").json[
                                           "csrf_token"]})
    assert (form.status_code, form.headers["Location"]) == (302, "/region")
    assert client.get("/api/v1/session").json["staff"] == {
        "login": "boss", "name": "Boss", "roles": ["manager"], "nodes": {"manager": ["region"]}}
    assert client.delete("/api/v1/session").json == {"staff": None}
    assert client.get("/api/v1/region/overview").status_code == 401


def test_the_overview_for_a_known_state_and_each_managers_part(root: Flask) -> None:
    hall_a = root.extensions["halls"]["a"].extensions["hall"]
    clerk = root.test_client()  # a clerk opens window 1 of hall a and takes one of three
    kiosk = root.test_client()
    for _ in range(3):
        assert kiosk.post("/h/a/api/v1/tickets", json={"service": "social_security"}
                          ).status_code == 201
    assert kiosk.post("/h/b/api/v1/tickets", json={"service": "social_security"}
                      ).status_code == 201
    window = next(w.number for w in hall_a.config.windows if "social_security" in w.services)
    r = clerk.post(f"/h/a/api/v1/windows/{window}/login", json={"clerk": "c01", "pin": "1234"})
    assert r.status_code == 200, r.json
    assert clerk.post(f"/h/a/api/v1/windows/{window}/call-next").status_code == 200

    boss = client_as(root, "boss").get("/api/v1/region/overview").json
    nodes = {n["code"]: n for n in boss["nodes"]}
    assert [(n["code"], n["depth"]) for n in boss["nodes"]] == [("region", 0), ("a", 1),
                                                                 ("b", 2)]
    a, b = nodes["a"]["own"], nodes["b"]["own"]
    assert (a["waiting"], a["open_windows"], b["waiting"], b["open_windows"]) == (2, 1, 1, 0)
    assert (nodes["region"]["total"]["waiting"], nodes["region"]["total"]["halls"]) == (3, 2)
    assert nodes["region"]["own"] is None and nodes["region"]["dashboard"] is None
    assert nodes["a"]["dashboard"] == "/h/a/manager/dashboard"
    assert boss["refresh_seconds"] == 5
    gao = client_as(root, "gao").get("/api/v1/region/overview").json
    assert [(n["code"], n["depth"], n["parent"]) for n in gao["nodes"]] == [("b", 0, None)]
    page = client_as(root, "boss").get("/region?lang=en")
    assert page.status_code == 200 and b"Regional overview" in page.data
    # the drill-down is the hall's own dashboard (its own login)
    assert root.test_client().get("/h/a/manager/dashboard").status_code == 302


def test_halls_admin_changes_carry_the_sessions_actor(root: Flask) -> None:
    admin = client_as(root, "admin")
    body = {"code": "c", "name_zh": "新区中心", "name_en": "New Centre", "level": "township",
            "parent": "a", "template": "b"}
    forged = admin.post("/api/v1/admin/halls", json={**body, "actor": "someone else"})
    assert forged.status_code == 422  # the actor is never taken from the body
    added = admin.post("/api/v1/admin/halls", json=body)
    assert added.status_code == 201, added.json
    assert root.test_client().get("/h/c/api/v1/hall").status_code == 200  # served at once
    assert [h.code for h in root.extensions["deployment"].halls()] == ["a", "b", "c"]
    assert admin.patch("/api/v1/admin/halls/c", json={"name_zh": "新区便民服务中心"}
                       ).json["name_zh"] == "新区便民服务中心"
    assert admin.patch("/api/v1/admin/halls/c", json={"parent": "region"}).json["parent"] == \
        "region"
    refused = admin.patch("/api/v1/admin/halls/a", json={"enabled": False})
    assert (refused.status_code, refused.json["error"]) == (409, "has_children")
    assert admin.patch("/api/v1/admin/halls/c", json={"enabled": False}).json["enabled"] is False
    assert root.test_client().get("/h/c/api/v1/hall").status_code == 404
    assert admin.patch("/api/v1/admin/halls/c", json={"enabled": True}).status_code == 200
    assert root.test_client().get("/h/c/api/v1/hall").status_code == 200
    upward = admin.patch("/api/v1/admin/halls/region", json={"parent": "c"})
    assert (upward.status_code, upward.json["error"]) == (422, "invalid_hierarchy")
    assert admin.patch("/api/v1/admin/halls/c", json={}).status_code == 422
    # an admin of the township alone may not touch what is above it
    badmin = client_as(root, "badmin")
    outside = badmin.patch("/api/v1/admin/halls/a", json={"name_zh": "改名"})
    assert (outside.status_code, outside.json["error"]) == (403, "outside_region")
    listing = admin.get("/api/v1/admin/halls").json
    assert [(c["kind"], c["hall"], c["actor"]) for c in reversed(listing["changes"])] == [
        ("added", "c", "admin"), ("renamed", "c", "admin"), ("moved", "c", "admin"),
        ("disabled", "c", "admin"), ("enabled", "c", "admin")]
    assert listing["changes"][-1]["after"]["template"] == "b"
    assert {h["code"]: h["covered"] for h in badmin.get("/api/v1/admin/halls").json["halls"]
            } == {"region": False, "a": False, "b": True, "c": False}
    assert admin.get("/admin/halls").status_code == 200


def test_the_overview_reads_a_hall_at_most_once_per_interval(root: Flask) -> None:
    boss = client_as(root, "boss")
    clock: StepClock = root.extensions["region_auth"].clock
    assert boss.get("/api/v1/region/overview").json["nodes"][1]["own"]["waiting"] == 0
    assert root.test_client().post("/h/a/api/v1/tickets", json={"service": "social_security"}
                                   ).status_code == 201
    assert boss.get("/api/v1/region/overview").json["nodes"][1]["own"]["waiting"] == 0
    clock.advance(seconds=5)
    assert boss.get("/api/v1/region/overview").json["nodes"][1]["own"]["waiting"] == 1


def test_the_first_regional_admin_is_made_on_the_server(tmp_path: Path, monkeypatch,
                                                       capsys) -> None:
    path = write_deployment(tmp_path, "sqlite:///instance/deployment.db")
    monkeypatch.setattr("sys.stdin", io.StringIO("long enough secret\n"))
    assert create_admin("unused", "chief", "主任", password_stdin=True, deployment=path) == 0
    assert "regional admin chief created over region" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("long enough secret\n"))
    assert create_admin("unused", "second", "二号", password_stdin=True, deployment=path) == 1
    root = create_deployment(path, always_open=True, staff_policy=CHEAP)
    root.test_client_class = RootClient
    try:
        client = root.test_client()
        r = client.post("/api/v1/session", json={"login": "chief",
                                                 "password": "long enough secret"})
        assert r.json["staff"]["nodes"] == {"admin": ["region"], "manager": ["region"]}
        assert client.get("/api/v1/admin/halls").status_code == 200
        assert client.get("/api/v1/region/overview").status_code == 200
    finally:
        root.extensions["deployment"].dispose()


def test_the_overview_follows_a_change_made_by_another_process(root: Flask) -> None:
    """The halls table changed behind this process's back (an admin on another process):
    the overview shows it within one interval."""
    boss = client_as(root, "boss")
    clock: StepClock = root.extensions["region_auth"].clock
    assert boss.get("/api/v1/region/overview").json["nodes"][2]["name_en"] == \
        "Qingshan Township Centre"
    with root.extensions["deployment"].db.write() as s:
        rename_hall(s, "admin", {"b"}, "b", name_zh=None, name_en="Qingshan Centre",
                    now=clock.now)
    clock.advance(seconds=5)
    assert boss.get("/api/v1/region/overview").json["nodes"][2]["name_en"] == "Qingshan Centre"
