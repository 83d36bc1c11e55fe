"""Staff login, window PIN sessions, device tokens, access rules, CSRF, limits and headers
through the real app (``create_app`` + ``hall_web.auth.init_app``) and a few probe views."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

import pytest
from flask import Blueprint, jsonify
from sqlalchemy import select

from hall_ops.staff import accounts, devices
from hall_ops.staff.demo import DEMO_PASSWORD
from hall_ops.staff.models import SecurityEvent
from hall_web import auth
from hall_web.access import access, current_staff, require_department, views_without_rule
from hall_web.security import lookup_limits
from tests.conftest import ROOT
from tests.support.web import CHEAP, demo_logins, hall_app

# ---------------------------------------------------------------- probe views

probe = Blueprint("probe", __name__)


@probe.post("/api/v1/probe/windows/<int:number>/call-next")
@access("clerk_at_window")
def probe_call_next(number: int):
    return jsonify(window=number, clerk=current_staff().login)


@probe.get("/api/v1/probe/backoffice/<department>/cases")
@access("approver", department_arg="department")
def probe_cases(department: str):
    return jsonify(department=department)


@probe.get("/api/v1/probe/cases/<number>/unmasked")
@access("approver")
def probe_unmasked(number: str):
    require_department("scj")
    auth.record_unmasked_read(number, ("id_number",))
    return jsonify(number=number)


@probe.get("/api/v1/probe/manager")
@access("manager")
def probe_manager():
    return jsonify(ok=True)


@probe.get("/api/v1/probe/admin")
@access("admin")
def probe_admin():
    return jsonify(ok=True)


@probe.get("/probe/manager-page")
@access("manager")
def probe_manager_page():
    return "manager page"


@probe.get("/probe/screen")
@access("device", kinds=("screen",), scope_args=("zone",), also=("manager",))
def probe_screen():
    return "screen page"


@probe.post("/api/v1/probe/take")
@access("public")
def probe_take():
    return jsonify(ok=True), 201


@probe.get("/api/v1/probe/tickets/<token>")
@access("public")
@lookup_limits
def probe_ticket(token: str):
    if token != "known":
        return jsonify(error="unknown_ticket"), 404
    return jsonify(ok=True)


@probe.get("/api/v1/probe/no-rule")
def probe_no_rule():
    return "forgotten"


# ---------------------------------------------------------------- fixtures

def make_app(url, config, clock, security=None):
    """The hall app with demo staff, the probe views, and plain test clients (no CSRF token
    unless a test sends one)."""
    if security is not None:
        config = dataclasses.replace(config, raw={**config.raw, "security": security})
    app = hall_app(config, clock=clock, database_url=url)
    app.test_client_class = None
    app.register_blueprint(probe)
    db = app.extensions["hall"].db
    with db.write() as s:
        accounts.add_staff(
            s, "test", "boss", "主任兼窗口", clock(), CHEAP, password=DEMO_PASSWORD, pin="9999"
        )
        for role in ("manager", "clerk"):
            accounts.grant_role(s, "test", "boss", role, clock(), CHEAP)
        accounts.set_windows(s, "test", "boss", [9], clock(), CHEAP)
    app.demo_logins = demo_logins(app)
    return app


@pytest.fixture
def app(tmp_path, hall_config, clock):
    made = make_app(f"sqlite:///{tmp_path / 'hall.db'}", hall_config, clock)
    yield made
    made.extensions["hall"].db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_app(request, tmp_path, hall_config, clock):
    url = (
        f"sqlite:///{tmp_path / 'hall.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    made = make_app(url, hall_config, clock)
    yield made
    made.extensions["hall"].db.dispose()


def client_from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def token_of(client) -> str:
    return client.get("/api/v1/session").json["csrf_token"]


def api_login(client, login, password=DEMO_PASSWORD):
    return client.post(
        "/api/v1/session",
        json={"login": login, "password": password},
        headers={"X-CSRFToken": token_of(client)},
    )


def logged_in(app, login, password=DEMO_PASSWORD):
    client = app.test_client()
    r = api_login(client, login, password)
    assert r.status_code == 200, r.json
    return client


def device_link(app, scope="zone:front_intake") -> str:
    entry = next(e for e in app.demo_logins if e.role == "device screen" and e.login == scope)
    return entry.secret


# ---------------------------------------------------------------- the rule map


def test_views_without_rule_are_found(app):
    assert views_without_rule(app) == ["/api/v1/probe/no-rule -> probe.probe_no_rule"]


def test_rule_typos_fail_at_import():
    for bad in (
        lambda: access("managers"),
        lambda: access("public", kinds=("screen",)),
        lambda: access("device", kinds=("phone",)),
        lambda: access("admin", also=("root",)),
        lambda: access("manager", department_arg="department"),
    ):
        with pytest.raises(ValueError):
            bad()


# ---------------------------------------------------------------- password login


def test_login_page_form(app):
    client = app.test_client()
    page = client.get("/login?next=/probe/manager-page")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "工作人员登录" in html and 'name="csrf_token"' in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    no_token = client.post("/login", data={"login": "manager", "password": DEMO_PASSWORD})
    assert no_token.status_code == 403
    wrong = client.post(
        "/login",
        data={
            "login": "manager",
            "password": "nope",
            "csrf_token": csrf,
            "next": "/probe/manager-page",
        },
    )
    assert wrong.status_code == 401 and "账号或密码错误" in wrong.get_data(as_text=True)
    ok = client.post(
        "/login",
        data={
            "login": "manager",
            "password": DEMO_PASSWORD,
            "csrf_token": csrf,
            "next": "/probe/manager-page",
        },
    )
    assert ok.status_code == 302 and ok.headers["Location"] == "/probe/manager-page"
    assert client.get("/probe/manager-page").get_data(as_text=True) == "manager page"


def test_login_never_redirects_off_site(app):
    client = app.test_client()
    csrf = token_of(client)
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        r = client.post(
            "/login",
            data={
                "login": "manager",
                "password": DEMO_PASSWORD,
                "csrf_token": csrf,
                "next": target,
            },
        )
        assert r.status_code == 302 and r.headers["Location"] == "/", target
        csrf = token_of(client)  # a login starts a fresh session: a fresh token


def test_anonymous_pages_go_to_login_and_api_says_401(app):
    client = app.test_client()
    page = client.get("/probe/manager-page")
    assert page.status_code == 302
    assert page.headers["Location"] == "/login?next=/probe/manager-page"
    api = client.get("/api/v1/probe/manager")
    assert api.status_code == 401 and api.json["error"] == "login_required"


def test_roles_see_exactly_their_views(app):
    department = next(e for e in app.demo_logins if e.role.startswith("approver")).role.split()[1]
    other = "not-" + department
    cases = {
        "manager": {
            "/api/v1/probe/manager": 200,
            "/api/v1/probe/admin": 403,
            f"/api/v1/probe/backoffice/{department}/cases": 403,
        },
        "admin": {"/api/v1/probe/manager": 403, "/api/v1/probe/admin": 200},
        f"appr-{department.lower()}": {
            f"/api/v1/probe/backoffice/{department}/cases": 200,
            f"/api/v1/probe/backoffice/{other}/cases": 403,
            "/api/v1/probe/manager": 403,
        },
    }
    for login, expected in cases.items():
        client = logged_in(app, login)
        got = {path: client.get(path).status_code for path in expected}
        assert got == expected, login


def test_whoami(app):
    client = logged_in(app, "manager")
    body = client.get("/api/v1/session").json
    assert body["staff"]["login"] == "manager" and body["staff"]["roles"] == ["manager"]
    assert body["device"] is None and body["csrf_token"]


# ---------------------------------------------------------------- sessions end


def test_logout_revokes_copies_of_the_cookie(any_app):
    client = logged_in(any_app, "manager")
    captured = client.get_cookie("session").value
    assert client.get("/api/v1/probe/manager").status_code == 200
    r = client.delete("/api/v1/session", headers={"X-CSRFToken": token_of(client)})
    assert r.status_code == 200
    logged_in(any_app, "manager")  # the same person logs in again elsewhere
    thief = any_app.test_client()
    thief.set_cookie("session", captured)
    assert thief.get("/api/v1/probe/manager").status_code == 401


def test_role_change_and_disabling_end_sessions(app):
    hall = app.extensions["hall"]
    client = logged_in(app, "manager")
    with hall.db.write() as s:
        accounts.grant_role(s, "admin", "manager", "approver", hall.clock(), CHEAP, department="x")
    assert client.get("/api/v1/probe/manager").status_code == 401
    client = logged_in(app, "manager")
    assert client.get("/api/v1/probe/manager").status_code == 200
    with hall.db.write() as s:
        accounts.set_enabled(s, "admin", "manager", False, hall.clock(), CHEAP)
    assert client.get("/api/v1/probe/manager").status_code == 401
    assert api_login(app.test_client(), "manager").json["error"] == "account_disabled"


def test_idle_sessions_expire(app, clock):
    client = logged_in(app, "manager")
    clock.advance(minutes=29)
    assert client.get("/api/v1/probe/manager").status_code == 200  # use renews it
    clock.advance(minutes=29)
    assert client.get("/api/v1/probe/manager").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/api/v1/probe/manager").status_code == 401


# ---------------------------------------------------------------- window PIN


def pin_login(client, window, clerk, pin):
    return client.post(
        f"/api/v1/windows/{window}/login",
        json={"clerk": clerk, "pin": pin},
        headers={"X-CSRFToken": token_of(client)},
    )


def test_window_pin_session_is_only_that_window(app, clock):
    client = app.test_client()
    r = pin_login(client, 9, "boss", "9999")
    assert r.status_code == 200 and r.json["clerk"] == "boss" and r.json["number"] == 9
    staff = client.get("/api/v1/session").json["staff"]
    assert (staff["roles"], staff["window"], staff["method"]) == (["clerk"], 9, "pin")
    csrf = {"X-CSRFToken": token_of(client)}
    assert client.post("/api/v1/probe/windows/9/call-next", headers=csrf).json["clerk"] == "boss"
    assert client.post("/api/v1/probe/windows/3/call-next", headers=csrf).status_code == 403
    # a manager who logs in at a window with the PIN is only a clerk there
    assert client.get("/api/v1/probe/manager").status_code == 403
    assert pin_login(app.test_client(), 3, "boss", "9999").json["error"] == "window_not_allowed"
    clock.advance(minutes=100)  # a quiet window is not an abandoned one
    assert client.post("/api/v1/probe/windows/9/call-next", headers=csrf).status_code == 200
    clock.advance(minutes=121)
    assert client.post("/api/v1/probe/windows/9/call-next", headers=csrf).status_code == 401


def test_pin_lockout_over_http(any_app):
    client = any_app.test_client()
    codes = [pin_login(client, 9, "c01", f"{5000 + i}").json["error"] for i in range(5)]
    assert codes == ["bad_credentials"] * 4 + ["locked"]
    assert pin_login(client, 9, "c01", "1234").json["error"] == "locked"
    with any_app.extensions["hall"].db.read() as s:
        kinds = s.scalars(select(SecurityEvent.kind).where(SecurityEvent.subject == "c01")).all()
    assert kinds.count("locked_out") == 1 and kinds.count("login_failed") >= 6


# ---------------------------------------------------------------- throttling


def test_failed_logins_are_limited_per_address(tmp_path, hall_config, clock):
    app = make_app(
        f"sqlite:///{tmp_path / 'hall.db'}",
        hall_config,
        clock,
        security={"login_rate": "3 per minute", "account_rate": "100 per minute"},
    )
    client = app.test_client()
    for _ in range(5):  # successful logins are not counted
        assert api_login(client, "manager").status_code == 200
    statuses = [
        api_login(client, login, "wrong password").status_code
        for login in ("admin", "manager", "c02", "c03")
    ]
    assert statuses == [401, 401, 401, 429]
    assert api_login(client, "manager").status_code == 429  # the address waits now
    other = client_from(app, "10.0.0.8")
    assert api_login(other, "manager").status_code == 200
    app.extensions["hall"].db.dispose()


def test_failed_logins_are_limited_per_account(tmp_path, hall_config, clock):
    app = make_app(
        f"sqlite:///{tmp_path / 'hall.db'}",
        hall_config,
        clock,
        security={"login_rate": "100 per minute", "account_rate": "2 per minute"},
    )
    addresses = [client_from(app, f"10.0.1.{i}") for i in range(3)]
    statuses = [api_login(c, "manager", "wrong password").status_code for c in addresses]
    assert statuses == [401, 401, 429]
    assert api_login(addresses[0], "admin").status_code == 200
    app.extensions["hall"].db.dispose()


def test_failed_lookups_are_limited(app):
    client = app.test_client()
    for _ in range(30):  # a ticket page polling its own ticket
        assert client.get("/api/v1/probe/tickets/known").status_code == 200
    statuses = [client.get(f"/api/v1/probe/tickets/guess{i}").status_code for i in range(21)]
    assert statuses[:20] == [404] * 20 and statuses[20] == 429


# ---------------------------------------------------------------- CSRF


def test_csrf(app):
    client = logged_in(app, "boss")  # a manager with a cookie: worth forging for
    assert client.post("/api/v1/probe/take").status_code == 403
    assert client.post("/api/v1/probe/take").json["error"] == "csrf_failed"
    assert client.post("/api/v1/probe/take", headers={"X-CSRFToken": "forged"}).status_code == 403
    assert (
        client.post("/api/v1/probe/take", headers={"X-CSRFToken": token_of(client)}).status_code
        == 201
    )
    # no cookie of ours: no authority to borrow (a citizen's kiosk-less call, a signed callback)
    assert app.test_client().post("/api/v1/probe/take").status_code == 201
    # but a login always needs the token, so no page elsewhere can log a browser in
    bare = app.test_client()
    r = bare.post("/api/v1/session", json={"login": "manager", "password": DEMO_PASSWORD})
    assert r.status_code == 403


def test_csrf_token_of_another_session_is_refused(app):
    mallory = logged_in(app, "admin")
    victim = logged_in(app, "manager")
    assert (
        victim.post("/api/v1/probe/take", headers={"X-CSRFToken": token_of(mallory)}).status_code
        == 403
    )


# ---------------------------------------------------------------- devices


def test_device_link_sets_a_cookie_and_leaves_the_url(any_app):
    screen = any_app.test_client()
    # nothing presented: the page offers the login (a manager may look at screens)
    assert screen.get("/probe/screen?zone=front_intake").status_code == 302
    link = device_link(any_app)
    assert link.startswith("/screen?zone=front_intake&device=")  # the demo's link: the real page
    r = screen.get("/probe" + link)
    assert r.status_code == 302 and r.headers["Location"] == "/probe/screen?zone=front_intake"
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("hall_device=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = screen.get("/probe/screen?zone=front_intake")
    assert page.status_code == 200 and page.get_data(as_text=True) == "screen page"
    any_app.extensions["hall"].clock.advance(minutes=2)
    renewed = screen.get("/probe/screen?zone=front_intake")  # in use: the cookie is renewed
    assert (
        renewed.headers["Set-Cookie"].startswith("hall_device=")
        and "Max-Age=" in renewed.headers["Set-Cookie"]
    )
    assert screen.get("/probe/screen?zone=business").status_code == 403  # not its zone
    assert screen.get("/api/v1/session").json["device"]["scope"] == "zone:front_intake"
    # a device is not staff
    assert screen.get("/api/v1/probe/manager").status_code == 401


def test_revoked_device_and_bad_links(app):
    hall = app.extensions["hall"]
    screen = app.test_client()
    screen.get(device_link(app))
    assert screen.get("/probe/screen?zone=front_intake").status_code == 200
    with hall.db.write() as s:
        device_id = devices.list_devices(s, CHEAP.hall)[1]["id"]
        assert devices.list_devices(s, CHEAP.hall)[1]["scope"] == "zone:front_intake"
        devices.revoke_device(s, "admin", device_id, hall.clock())
    refused = screen.get("/probe/screen?zone=front_intake")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    assert "hall_device=;" in refused.headers["Set-Cookie"]  # the dead cookie is dropped
    stranger = app.test_client()
    assert stranger.get("/probe/screen?device=" + "x" * 43).status_code == 403
    statuses = [stranger.get(f"/probe/screen?device={i:043d}").status_code for i in range(20)]
    assert statuses[-1] == 429


def test_device_bearer_token_and_manager_also(app):
    hall = app.extensions["hall"]
    with hall.db.write() as s:
        _, token = devices.issue_device(s, "admin", "screen", "墙屏", "hall", hall.clock(), CHEAP)
    script = app.test_client()
    assert (
        script.get(
            "/probe/screen?zone=business", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )
    with hall.db.write() as s:
        _, kiosk = devices.issue_device(s, "admin", "kiosk", "取号机2", "hall", hall.clock(), CHEAP)
    assert (
        script.get("/probe/screen", headers={"Authorization": f"Bearer {kiosk}"}).status_code == 403
    )
    assert logged_in(app, "manager").get("/probe/screen?zone=business").status_code == 200
    assert app.test_client().get("/probe/screen").status_code == 302  # manager could: log in


# ---------------------------------------------------------------- personal data, headers, cookies


def test_unmasked_read_is_logged(app):
    hall = app.extensions["hall"]
    with hall.db.write() as s:
        accounts.add_staff(
            s, "admin", "appr-test", "审批员", hall.clock(), CHEAP, password=DEMO_PASSWORD
        )
        accounts.grant_role(
            s, "admin", "appr-test", "approver", hall.clock(), CHEAP, department="scj"
        )
        accounts.add_staff(
            s, "admin", "appr-other", "审批员", hall.clock(), CHEAP, password=DEMO_PASSWORD
        )
        accounts.grant_role(
            s, "admin", "appr-other", "approver", hall.clock(), CHEAP, department="gaj"
        )
    assert logged_in(app, "appr-other").get("/api/v1/probe/cases/SQ1/unmasked").status_code == 403
    assert logged_in(app, "appr-test").get("/api/v1/probe/cases/SQ1/unmasked").status_code == 200
    with hall.db.read() as s:
        rows = s.scalars(
            select(SecurityEvent).where(SecurityEvent.kind == "personal_data_read")
        ).all()
    assert [(r.actor, r.subject, r.detail["fields"], r.origin) for r in rows] == [
        ("appr-test", "case:SQ1", ["id_number"], "127.0.0.1")
    ]


def test_security_headers(app):
    client = app.test_client()
    for response in (client.get("/login"), client.get("/api/v1/hall"), client.get("/kiosk")):
        csp = response.headers["Content-Security-Policy"]
        script_src = next(p for p in csp.split("; ") if p.startswith("script-src"))
        assert script_src == "script-src 'self'"
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers


def test_cookies_are_secure_over_https(app):
    plain = app.test_client()
    r = api_login(plain, "manager")
    assert "Secure" not in r.headers["Set-Cookie"]
    tls = app.test_client()
    token = tls.get("/api/v1/session", base_url="https://localhost").json["csrf_token"]
    r = tls.post(
        "/api/v1/session",
        base_url="https://localhost",
        json={"login": "manager", "password": DEMO_PASSWORD},
        headers={"X-CSRFToken": token, "Referer": "https://localhost/login"},
    )
    assert r.status_code == 200, r.json
    assert "Secure" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    # over HTTPS a post from another site is refused by its Referer as well
    r = tls.post(
        "/api/v1/probe/take",
        base_url="https://localhost",
        headers={"X-CSRFToken": token_of(tls), "Referer": "https://evil.example/"},
    )
    assert r.status_code == 403


# ---------------------------------------------------------------- the first admin


def test_create_admin_command(tmp_path):
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    command = [
        sys.executable,
        "-m",
        "hall_web",
        "create-admin",
        "--config",
        str(ROOT / "config.toml"),
        "--database-url",
        url,
        "--login",
        "root",
        "--password-stdin",
    ]
    first = subprocess.run(
        command, input="a long password\n", capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert first.returncode == 0, first.stderr
    assert "admin root created" in first.stdout
    second = subprocess.run(
        command, input="another password\n", capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert second.returncode == 1 and "an admin already exists" in second.stderr
    command[command.index(url)] = f"sqlite:///{tmp_path / 'new.db'}"
    weak = subprocess.run(
        command, input="short\n", capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert weak.returncode == 1 and "at least 8 characters" in weak.stderr


@pytest.mark.redis
def test_limits_are_kept_in_redis_when_processes_share_it(
    tmp_path, hall_config, clock, redis_server
):
    """With a Redis message queue, the counters live there, so every process sees them."""
    import random

    import redis

    config = dataclasses.replace(hall_config, message_queue=redis_server)
    app = make_app(
        f"sqlite:///{tmp_path / 'hall.db'}",
        config,
        clock,
        security={"login_rate": "2 per minute", "account_rate": "100 per minute"},
    )
    address = f"10.77.{random.randint(0, 255)}.{random.randint(1, 254)}"
    client = client_from(app, address)
    statuses = [api_login(client, "manager", "wrong password").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    keys = redis.Redis.from_url(redis_server).keys(f"*{address}*")
    assert keys, "the failures were counted in Redis"
    app.extensions["hall"].db.dispose()


def test_security_settings_from_config(hall_config):
    import datetime as dt

    from hall_ops.config import ConfigError
    from hall_web.security import SecuritySettings

    default = SecuritySettings.from_config(hall_config)
    assert default.rate_limit_storage == "memory://" and default.idle == dt.timedelta(minutes=30)
    shared = dataclasses.replace(hall_config, message_queue="redis://127.0.0.1:6379/3")
    assert SecuritySettings.from_config(shared).rate_limit_storage == "redis://127.0.0.1:6379/3"
    custom = dataclasses.replace(
        hall_config,
        raw={
            **hall_config.raw,
            "security": {
                "idle_minutes": 10,
                "window_idle_minutes": 600,
                "login_rate": "5 per minute",
            },
        },
    )
    values = SecuritySettings.from_config(custom)
    assert (values.idle, values.window_idle, values.login_rate) == (
        dt.timedelta(minutes=10),
        dt.timedelta(hours=10),
        "5 per minute",
    )
    for bad in ({"idle_minutes": 0}, {"login_rate": "often"}):
        broken = dataclasses.replace(hall_config, raw={**hall_config.raw, "security": bad})
        with pytest.raises(ConfigError):
            SecuritySettings.from_config(broken)


def test_socketio_rooms():
    from hall_ops.staff.accounts import Grant, StaffIdentity
    from hall_ops.staff.devices import DeviceIdentity
    from hall_web.access import may_join
    from hall_web.auth import StaffUser

    boss = StaffIdentity(
        "boss",
        "主任",
        1,
        frozenset({Grant("manager", "main"), Grant("clerk", "main")}),
        frozenset({("main", 9)}),
    )
    manager = StaffUser(boss, "main", "password", None)
    at_window = StaffUser(boss, "main", "pin", 9)
    window_screen = DeviceIdentity(1, "main", "screen", "9号窗口屏", "window:9", None)
    hall_screen = DeviceIdentity(2, "main", "screen", "大厅总屏", "hall", None)
    assert may_join("hall", None, None) and may_join("zone:front_intake", None, None)
    assert may_join("manager", manager, None)
    assert not may_join("manager", None, None) and not may_join("manager", at_window, None)
    assert not may_join("manager", None, hall_screen)
    assert may_join("window:9", at_window, None) and not may_join("window:3", at_window, None)
    assert not may_join("window:9", manager, None)  # not logged in at that window
    assert may_join("window:9", None, window_screen) and not may_join(
        "window:8", None, window_screen
    )
    assert may_join("window:8", None, hall_screen) and not may_join("window:8", None, None)
    assert not may_join("admin", manager, None) and not may_join("window:x", at_window, None)


def test_login_page_still_shows_when_the_address_is_throttled(tmp_path, hall_config, clock):
    app = make_app(
        f"sqlite:///{tmp_path / 'hall.db'}",
        hall_config,
        clock,
        security={"login_rate": "1 per minute"},
    )
    client = app.test_client()
    form = {"login": "manager", "password": "wrong password", "csrf_token": token_of(client)}
    assert client.post("/login", data=form).status_code == 401
    assert client.post("/login", data={**form, "password": DEMO_PASSWORD}).status_code == 429
    assert client.get("/login").status_code == 200
    app.extensions["hall"].db.dispose()
