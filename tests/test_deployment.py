"""Many halls in one deployment (``hall_web.deployment``): the root app and two halls
mounted at ``/h/a/`` and ``/h/b/``, on SQLite (a file per hall) and PostgreSQL (a schema
per hall). The halls are isolated (numbers, queues, calls, sessions), the root lists them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from hall_ops.config import ConfigError
from hall_ops.region.deployment import Deployment, read_deployment
from hall_ops.region.directory import HallDirectory
from hall_ops.staff.demo import create_demo_staff
from hall_ops.staff.policy import hall_code
from hall_web.access import views_without_rule
from hall_web.deployment import create_deployment
from tests.conftest import ROOT, StepClock
from tests.support.web import CHEAP, DEVICE_SECRET, UNSAFE

HALLS = """
[[halls]]
code = "region"
name_zh = "江城市"
name_en = "Jiangcheng"
level = "city"

[[halls]]
code = "a"
name_zh = "东城区政务服务中心"
name_en = "Dongcheng District Centre"
level = "district"
parent = "region"
config = "{root}/halls/dongcheng.toml"

[[halls]]
code = "b"
name_zh = "青山镇便民服务中心"
name_en = "Qingshan Township Centre"
level = "township"
parent = "a"
config = "{root}/halls/qingshan.toml"
"""


def write_deployment(folder: Path, database: str, extra: str = "") -> Path:
    path = folder / "deployment.toml"
    path.write_text(f'[deployment]\nname_zh = "江城市政务服务"\nname_en = "Jiangcheng"\n'
                    f'database = "{database}"\n{extra}\n' + HALLS.format(root=ROOT))
    return path


class DeploymentClient(FlaskClient):
    """A browser on the deployment: sends the CSRF token of the hall it is talking to."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        path = str(args[0]) if args else str(kwargs.get("path", "/"))
        if str(kwargs.get("method", "GET")).upper() in UNSAFE and path.startswith("/h/"):
            prefix = "/".join(path.split("/")[:3])
            headers = Headers(kwargs.get("headers") or {})
            if "X-CSRFToken" not in headers:
                headers["X-CSRFToken"] = self.get(f"{prefix}/api/v1/session").json["csrf_token"]
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    url = "sqlite:///instance/deployment.db" if request.param == "sqlite" \
        else request.getfixturevalue("pg_url")
    root = create_deployment(write_deployment(tmp_path, url), clock=StepClock(),
                             always_open=True, staff_policy=CHEAP)
    root.testing = True
    root.test_client_class = DeploymentClient
    for app in root.extensions["halls"].values():
        app.testing = True
        hall = app.extensions["hall"]
        with hall.db.write() as s:
            app.extensions["demo_logins"] = create_demo_staff(
                s, hall.config, hall.clock(), CHEAP, device_secret=DEVICE_SECRET)
    yield root
    root.extensions["deployment"].dispose()


def halls(root: Flask) -> dict[str, Flask]:
    found: dict[str, Flask] = root.extensions["halls"]
    return found


def test_the_deployment_is_a_hall_directory(deployment: Flask) -> None:
    found: HallDirectory = deployment.extensions["deployment"]
    assert [n.code for n in found.nodes()] == ["region", "a", "b"]
    assert [h.code for h in found.halls()] == ["a", "b"]
    assert found.hall("region") is not None and not found.hall("region").floor
    assert hall_code(found.config("a")) == "a" and hall_code(found.config("b")) == "b"
    assert found.database("a") is halls(deployment)["a"].extensions["hall"].db
    from hall_web.context import hall_directory

    with halls(deployment)["b"].app_context():
        assert hall_directory() is found
    with pytest.raises(KeyError):
        found.database("region")
    with pytest.raises(KeyError):
        found.config("nowhere")


def test_each_hall_issues_its_own_numbers_and_keeps_its_own_queue(deployment: Flask) -> None:
    kiosk = deployment.test_client()
    first_a = kiosk.post("/h/a/api/v1/tickets", json={"service": "social_security"})
    second_a = kiosk.post("/h/a/api/v1/tickets", json={"service": "social_security"})
    first_b = kiosk.post("/h/b/api/v1/tickets", json={"service": "social_security"})
    assert [r.status_code for r in (first_a, second_a, first_b)] == [201, 201, 201]
    assert (first_a.json["number"], second_a.json["number"], first_b.json["number"]) == (
        "F001", "F002", "F001")
    assert first_a.json["print_url"].startswith("/h/a/")

    def waiting(code: str) -> int:
        queue = kiosk.get(f"/h/{code}/api/v1/queue").json
        return next(s["waiting"] for s in queue["services"] if s["code"] == "social_security")

    assert (waiting("a"), waiting("b")) == (2, 1)
    # a ticket of hall a is unknown at hall b
    token = first_a.json["status_url"].rsplit("/", 1)[1]
    assert kiosk.get(f"/h/a/api/v1/tickets/{token}").status_code == 200
    assert kiosk.get(f"/h/b/api/v1/tickets/{token}").status_code == 404


def screen(app: Flask) -> Any:
    """A Socket.IO client of one hall's own server, joined to its ``hall`` room."""
    client = app.extensions["hall"].socketio.test_client(app)
    assert client.emit("join", {"room": "hall"}, callback=True) == {"ok": True, "room": "hall"}
    client.get_received()
    return client


def calls(client: Any) -> list[tuple[str, int]]:
    return [(e["args"][0]["ticket"], e["args"][0]["window"])
            for e in client.get_received() if e["name"] == "call"]


def test_a_call_reaches_its_halls_screens_only(deployment: Flask) -> None:
    screen_a, screen_b = screen(halls(deployment)["a"]), screen(halls(deployment)["b"])
    kiosk = deployment.test_client()
    kiosk.post("/h/b/api/v1/tickets", json={"service": "social_security"})
    kiosk.post("/h/a/api/v1/tickets", json={"service": "social_security"})
    clerk = deployment.test_client()
    assert clerk.post("/h/b/api/v1/windows/2/login",
                      json={"clerk": "c02", "pin": "1234"}).status_code == 200
    assert clerk.post("/h/b/api/v1/windows/2/call-next").status_code == 200
    assert calls(screen_b) == [("F001", 2)]
    assert calls(screen_a) == []


def test_sessions_of_two_halls_do_not_clash(deployment: Flask) -> None:
    """One browser logs in at both halls: each hall has its own session cookie (its path)."""
    browser = deployment.test_client()
    for code, window in (("a", 5), ("b", 1)):
        r = browser.post(f"/h/{code}/api/v1/windows/{window}/login",
                         json={"clerk": "c01", "pin": "1234"})
        assert r.status_code == 200, r.json
    cookies = {(c.key, c.path) for c in browser._cookies.values()}
    assert {("session_h_a", "/h/a/"), ("session_h_b", "/h/b/")} <= cookies
    assert browser.get("/h/a/api/v1/windows/5").status_code == 200
    assert browser.get("/h/b/api/v1/windows/1").status_code == 200
    # logged in at window 5 of hall a only: hall b's window 5 is not this clerk's
    assert browser.get("/h/b/api/v1/windows/5").status_code == 403
    assert browser.post("/h/a/api/v1/windows/5/logout").status_code == 200
    assert browser.get("/h/a/api/v1/windows/5").status_code == 401
    assert browser.get("/h/b/api/v1/windows/1").status_code == 200


def test_a_login_redirect_stays_in_its_hall(deployment: Flask) -> None:
    browser = deployment.test_client()
    r = browser.get("/h/a/manager")
    assert r.status_code == 302 and r.headers["Location"].startswith("/h/a/login?next=")
    token = browser.get("/h/a/api/v1/session").json["csrf_token"]
    r = browser.post("/h/a/login", data={"login": "manager", "password": "hall-demo",
                                         "next": "/manager", "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/h/a/manager"
    assert browser.get("/h/a/manager").status_code == 200


def test_pages_give_their_scripts_the_halls_base(deployment: Flask) -> None:
    page = deployment.test_client().get("/h/b/").get_data(as_text=True)
    assert '"base": "/h/b"' in page and 'href="/h/b/static/css/hall.css"' in page


def test_the_root_lists_the_halls(deployment: Flask) -> None:
    client = deployment.test_client()
    listed = client.get("/api/v1/halls")
    assert listed.status_code == 200
    assert [(h["code"], h["level"], h["parent"], h["floor"], h["url"])
            for h in listed.json["halls"]] == [
        ("region", "city", None, False, None),
        ("a", "district", "region", True, "/h/a/"),
        ("b", "township", "a", True, "/h/b/"),
    ]
    only = client.get("/api/v1/halls?parent=a").json["halls"]
    assert [h["code"] for h in only] == ["b"]
    assert [h["code"] for h in client.get("/api/v1/halls?floor=true").json["halls"]] == ["a", "b"]
    refused = client.get("/api/v1/halls?level=county")
    assert refused.status_code == 422 and refused.json["field"] == "level"
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    page = client.get("/?lang=en").get_data(as_text=True)
    assert 'href="/h/a/"' in page and 'href="/h/b/"' in page and "Jiangcheng" in page
    assert "江城市政务服务" in client.get("/?lang=zh").get_data(as_text=True)


def test_every_root_route_has_an_access_rule(deployment: Flask) -> None:
    assert views_without_rule(deployment) == []


def test_the_table_is_the_truth_after_the_first_start(tmp_path: Path) -> None:
    """The file seeds the hierarchy once; a later start reads the table (an admin's halls)."""
    path = write_deployment(tmp_path, "sqlite:///instance/deployment.db")
    first = Deployment(path)
    first.prepare()
    first.dispose()
    path.write_text(path.read_text().replace('code = "b"', 'code = "c"')
                    .replace('parent = "a"\nconfig', 'parent = "a"\nconfig'))
    again = Deployment(path)
    again.prepare()
    assert [h.code for h in again.halls()] == ["a", "b"]
    again.dispose()


@pytest.mark.parametrize(("before", "after", "problem"), [
    ('level = "district"', 'level = "township"', "a township cannot be under a township"),
    ('parent = "a"', 'parent = "nowhere"', "unknown parent 'nowhere'"),
    ('code = "b"', 'code = "a"', "duplicate code 'a'"),
    ('code = "b"', 'code = "B-1"', r"halls\[2\] code: String should match"),
    ('level = "district"', 'level = "county"', "level: Input should be"),
])
def test_the_file_is_checked(tmp_path: Path, before: str, after: str, problem: str) -> None:
    path = write_deployment(tmp_path, "sqlite:///x.db")
    path.write_text(path.read_text().replace(before, after, 1))
    with pytest.raises(ConfigError, match=problem):
        read_deployment(path)


def test_a_hall_config_naming_another_code_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "a.toml"
    config.write_text((ROOT / "halls" / "qingshan.toml").read_text()
                      .replace("[hall]\n", '[hall]\ncode = "elsewhere"\n'))
    path = write_deployment(tmp_path, "sqlite:///instance/deployment.db")
    path.write_text(path.read_text().replace(f"{ROOT}/halls/dongcheng.toml", str(config)))
    found = Deployment(path)
    found.prepare()
    with pytest.raises(ConfigError, match="leave \\[hall\\] code out"):
        found.config("a")
    found.dispose()


def test_one_leader_runs_every_halls_jobs(deployment: Flask) -> None:
    """One election per deployment (one leader connection per process, however many halls);
    the leader resumes every hall's scheduler, and each hall records its term."""
    from apscheduler.schedulers.base import STATE_RUNNING
    from sqlalchemy import func, select

    from hall_ops.runtime.models import SchedulerTerm
    from hall_web.jobs import start_deployment_jobs, stop_jobs

    election = start_deployment_jobs(deployment)
    try:
        expected = "postgresql" if deployment.extensions["deployment"].dialect == "postgresql" \
            else "local"
        assert election.leader and election.lock.backend == expected
        for app in halls(deployment).values():
            assert app.extensions["scheduler"].state == STATE_RUNNING
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            terms = []
            for app in halls(deployment).values():
                with app.extensions["hall"].db.read() as s:
                    terms.append(s.scalar(select(func.count(SchedulerTerm.id))))
            if all(terms):
                break
            time.sleep(0.2)
        assert terms == [1, 1]
    finally:
        stop_jobs(deployment)
    assert not election.leader
    assert all("scheduler" not in app.extensions for app in halls(deployment).values())


@pytest.mark.postgres
@pytest.mark.redis
def test_two_processes_on_postgresql_and_redis_carry_each_call_to_its_hall_only(
    tmp_path: Path, pg_url: str, redis_server: str
) -> None:
    """Two ``serve --deployment`` processes, one database (a schema per hall), one Redis (a
    channel per hall): a call made through process A at hall b reaches hall b's screen on
    process B, and hall a's screen on process B hears nothing."""
    import socketio

    from tests.support.server import HallServer
    from tests.support.web import live_window

    channel = f"test-{time.time_ns()}"
    path = write_deployment(tmp_path, pg_url, f'message_queue = "{redis_server}"\n'
                                               f'message_queue_channel = "{channel}"')
    with (HallServer(tmp_path, deployment=path, database_url=pg_url, name="A",
                     timeout=120) as a,
          HallServer(tmp_path, deployment=path, database_url=pg_url, name="B",
                     timeout=120) as b):
        heard: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
        clients = []
        for code in ("a", "b"):
            client = socketio.Client(reconnection=False)
            client.on("call", heard[code].append)
            client.connect(b.url, transports=["websocket"], socketio_path=f"/h/{code}/socket.io",
                           wait_timeout=30)
            assert client.call("join", {"room": "hall"}, timeout=30) == {"ok": True,
                                                                          "room": "hall"}
            clients.append(client)
        try:
            taken = requests.post(f"{a}/h/b/api/v1/tickets", json={"service": "social_security"},
                                  timeout=30)
            assert taken.status_code == 201
            clerk = live_window(f"{a}/h/b", 2, "c02")
            call = clerk.post(f"{a}/h/b/api/v1/windows/2/call-next", timeout=30).json()["call"]
            deadline = time.monotonic() + 30
            while not heard["b"] and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [(c["ticket"], c["window"]) for c in heard["b"]] == [(call["ticket"], 2)]
            time.sleep(1)
            assert heard["a"] == []
        finally:
            for client in clients:
                client.disconnect()


def test_the_first_admin_of_a_hall_of_a_deployment(tmp_path: Path) -> None:
    """``create-admin --deployment FILE --hall CODE``: in that hall's database, granted in
    that hall (its code), and refused for a code with no floor."""
    import subprocess
    import sys

    from sqlalchemy import select

    from hall_ops.staff.models import RoleGrant

    path = write_deployment(tmp_path, "sqlite:///instance/deployment.db")

    def create(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hall_web", "create-admin", "--deployment", str(path),
             "--hall", code, "--login", "boss", "--password-stdin"],
            input="a long password\n", capture_output=True, text=True, timeout=120, cwd=ROOT)

    done = create("b")
    assert done.returncode == 0, done.stderr
    assert "for hall b" in done.stdout
    assert create("region").returncode == 1
    found = Deployment(path)
    found.prepare()
    with found.database("b").read() as s:
        assert [g.hall for g in s.scalars(select(RoleGrant))] == ["b"]
    assert not (tmp_path / "instance" / "halls" / "a.db").exists()  # hall a untouched
    found.dispose()


def test_a_hall_added_to_the_table_is_mounted_while_serving(deployment: Flask) -> None:
    """What an admin's new hall needs: a row in ``halls``, then ``mount_hall`` serves it at
    ``/h/<code>/`` with its own database, and the leader runs its jobs."""
    from apscheduler.schedulers.base import STATE_RUNNING

    from hall_ops.region.models import RegionHall
    from hall_web.deployment import mount_hall
    from hall_web.jobs import start_deployment_jobs, stop_jobs

    found: Deployment = deployment.extensions["deployment"]
    with found.db.write() as s:
        s.add(RegionHall(code="c", name_zh="新村便民服务站", name_en="Xincun", level="township",
                         parent_code="a", config_path=str(ROOT / "halls" / "qingshan.toml"),
                         position=9, enabled=True))
    client = deployment.test_client()
    assert client.get("/h/c/api/v1/queue").status_code == 404  # the root's 404: not mounted
    start_deployment_jobs(deployment)
    try:
        app = mount_hall(deployment, "c")
        assert mount_hall(deployment, "c") is app
        assert app.extensions["scheduler"].state == STATE_RUNNING
        taken = client.post("/h/c/api/v1/tickets", json={"service": "social_security"})
        assert taken.status_code == 201 and taken.json["number"] == "F001"
        assert [h["code"] for h in client.get("/api/v1/halls").json["halls"]] == [
            "region", "a", "b", "c"]
    finally:
        stop_jobs(deployment)
