"""The hall app with its demo staff and devices, and clients that log in as the pages do.

``hall_app`` is ``create_app`` plus the demo's staff (argon2 at its cheapest cost) and
devices. Its test clients send the session's CSRF token with every change, as the pages'
``api()`` does; ``raw_client`` is one that does not (to see the refusal). For a live server,
``HallSession`` is the same over HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from argon2 import PasswordHasher, profiles
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from hall_ops.staff.demo import DEMO_PASSWORD, DEMO_PIN, DemoLogin, create_demo_staff
from hall_ops.staff.policy import StaffPolicy
from hall_web.app import create_app

CHEAP = StaffPolicy(hasher=PasswordHasher.from_parameters(profiles.CHEAPEST))
"""Real argon2id at its cheapest cost, so tests log in quickly."""
DEVICE_SECRET = "device secret"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class CsrfClient(FlaskClient):
    """Sends ``X-CSRFToken`` with every change unless the caller set one."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if str(kwargs.get("method", "GET")).upper() in UNSAFE:
            headers = Headers(kwargs.get("headers") or {})
            if "X-CSRFToken" not in headers:
                headers["X-CSRFToken"] = self.get("/api/v1/session").json["csrf_token"]
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def hall_app(config: Any, **kwargs: Any) -> Flask:
    """``create_app(config, **kwargs)`` with demo staff and devices; ``app.testing`` on."""
    kwargs.setdefault("secret_key", "test")
    app = create_app(config, staff_policy=CHEAP, **kwargs)
    app.testing = True
    app.test_client_class = CsrfClient
    hall = app.extensions["hall"]
    with hall.db.write() as s:
        app.extensions["demo_logins"] = create_demo_staff(
            s, hall.config, hall.clock(), CHEAP, device_secret=DEVICE_SECRET
        )
    return app


def raw_client(app: Flask) -> FlaskClient:
    """A client that sends no CSRF token of its own accord."""
    return FlaskClient(app, app.response_class, use_cookies=True)


def demo_logins(app: Flask) -> list[DemoLogin]:
    logins: list[DemoLogin] = app.extensions["demo_logins"]
    return logins


def device_path(app: Flask, scope: str = "hall", kind: str = "screen") -> str:
    """The demo device's link (token included), as ``./hall demo`` prints it."""
    entry = next(e for e in demo_logins(app) if e.role == f"device {kind}" and e.login == scope)
    return entry.secret


def staff_client(app: Flask, login: str, password: str = DEMO_PASSWORD) -> FlaskClient:
    client = app.test_client()
    r = client.post("/api/v1/session", json={"login": login, "password": password})
    assert r.status_code == 200, r.json
    return client


def window_client(app: Flask, window: int, clerk: str, pin: str = DEMO_PIN) -> FlaskClient:
    """A clerk logged in at ``window`` (the window opened for them)."""
    client = app.test_client()
    r = client.post(f"/api/v1/windows/{window}/login", json={"clerk": clerk, "pin": pin})
    assert r.status_code == 200, r.json
    return client


def device_client(app: Flask, scope: str = "hall", kind: str = "screen") -> FlaskClient:
    """A browser that has opened a demo device's link (its token now in a cookie)."""
    client = app.test_client()
    assert client.get(device_path(app, scope, kind)).status_code == 302
    return client


def received_until(client: Any, name: str, match: Callable[[Any], bool] = lambda _: True,
                   timeout: float = 5.0) -> list[dict[str, Any]]:
    """What a Socket.IO test client received (``get_received``'s events) up to and including
    a ``name`` push whose payload ``match``es: the hall's ``queue`` and ``missed`` pushes come
    from a background task within ``[server] push_seconds`` of the change, not before the
    request that made it returns."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        got.extend(client.get_received())
        if any(e["name"] == name and match(e["args"][0]) for e in got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"no matching {name!r} push within {timeout}s; got {got!r}")
        time.sleep(0.01)


def approver_of(app: Flask, department: str) -> str:
    """The demo approver of ``department``."""
    return next(e.login for e in demo_logins(app) if e.role == f"approver {department}")


# ---------------------------------------------------------------- live servers


class HallSession(requests.Session):
    """A ``requests`` session that keeps and sends the hall's CSRF token, as the pages do:
    fetched once, replaced by the one a login or logout answers with."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if str(method).upper() in UNSAFE and "X-CSRFToken" not in self.headers:
            self.headers["X-CSRFToken"] = self.get(f"{self.base}/api/v1/session").json()[
                "csrf_token"
            ]
        response = super().request(method, url, *args, **kwargs)
        if "X-CSRFToken" in response.headers:
            self.headers["X-CSRFToken"] = response.headers["X-CSRFToken"]
        return response


def live_staff(base: str, login: str, password: str = DEMO_PASSWORD) -> HallSession:
    session = HallSession(base)
    r = session.post(f"{base}/api/v1/session", json={"login": login, "password": password})
    assert r.status_code == 200, r.text
    return session


def live_window(base: str, window: int, clerk: str, pin: str = DEMO_PIN) -> HallSession:
    session = HallSession(base)
    r = session.post(f"{base}/api/v1/windows/{window}/login", json={"clerk": clerk, "pin": pin})
    assert r.status_code == 200, r.text
    return session
