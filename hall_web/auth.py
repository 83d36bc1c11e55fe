"""Who is asking: staff sessions (Flask-Login), window PIN sessions and device tokens.

A staff session's user id is ``<login>:<session_version>``; the loader reads
the person on every request and refuses a disabled account or an older
version, so logout, a password or role change, or disabling ends every copy
of the session cookie at once. A window PIN session admits its holder as the
clerk of that one window and nothing else. Sessions also end when idle.

A device (screen, kiosk, pad) opens its link ``…?device=<token>`` once: the
token moves into a long-lived HttpOnly cookie and the browser is redirected
to the same page without it. Scripts may send ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import LoginManager, UserMixin, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as ResponseBase

from hall_ops.clock import Clock
from hall_ops.config import HallConfig
from hall_ops.db import Database
from hall_ops.errors import InvalidInput, Unauthorized
from hall_ops.staff import accounts, devices
from hall_ops.staff import log as security_log
from hall_ops.staff.accounts import StaffIdentity
from hall_ops.staff.policy import StaffPolicy
from hall_web import security
from hall_web.access import access, current_device, current_staff, mark_public, may_join
from hall_web.api import answers, api
from hall_web.schemas.auth import LoggedIn, LoggedOut, PasswordLogin, WhoAmI
from hall_web.security import DEVICE_COOKIE, csrf_always, login_limits

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.session_protection = "strong"

TOUCH_EVERY = dt.timedelta(minutes=1)
"""How stale a session's or device's last-seen time may get before it is rewritten."""


@dataclass(frozen=True)
class AuthContext:
    db: Database
    clock: Clock
    policy: StaffPolicy


def auth_context() -> AuthContext:
    return current_app.extensions["hall_auth"]


def _origin() -> str:
    return request.remote_addr or "-"


# ---------------------------------------------------------------- the logged-in person


class StaffUser(UserMixin):
    """A person as this session may act: with a PIN, only as the clerk of one window."""

    def __init__(self, identity: StaffIdentity, hall: str, method: str, window: int | None) -> None:
        self.identity = identity
        self.hall = hall
        self.method = method
        self.window = window

    @property
    def login(self) -> str:
        return self.identity.login

    @property
    def name(self) -> str:
        return self.identity.name

    def get_id(self) -> str:
        return f"{self.identity.login}:{self.identity.session_version}"

    def has_role(self, role: str, department: str | None = None) -> bool:
        if self.method == "pin":
            return role == "clerk" and department is None
        return self.identity.has_role(role, self.hall, department)

    def departments(self) -> frozenset[str]:
        return frozenset() if self.method == "pin" else self.identity.departments(self.hall)

    def is_clerk_at(self, number: int) -> bool:
        return self.window == number and self.identity.may_sit_at(self.hall, number)

    def to_dict(self) -> dict[str, Any]:
        roles = sorted({g.role for g in self.identity.grants if g.hall == self.hall})
        return {
            "login": self.login,
            "name": self.name,
            "method": self.method,
            "window": self.window,
            "roles": ["clerk"] if self.method == "pin" else roles,
            "departments": sorted(self.departments()),
        }


@login_manager.user_loader
def _load_user(user_id: str) -> StaffUser | None:
    login, _, version = user_id.rpartition(":")
    if not version.isdigit():
        return None
    state = auth_context()
    with state.db.read() as s:
        found = accounts.identity(s, login, int(version))
    if found is None:
        return None
    window = session.get("window")
    return StaffUser(
        found,
        state.policy.hall,
        session.get("auth_method", "password"),
        window if isinstance(window, int) else None,
    )


def _now_stamp() -> float:
    return auth_context().clock().replace(tzinfo=dt.UTC).timestamp()


def _renew_csrf() -> None:
    """The session was cleared: its CSRF token went with it. The response carries the new
    one (``X-CSRFToken``), which the page's ``api()`` keeps for its next request."""
    g.pop("csrf_token", None)
    g.csrf_renewed = True


def _start_session(found: StaffIdentity, method: str, window: int | None = None) -> StaffUser:
    """A fresh session (nothing carried over from before the login)."""
    session.clear()
    _renew_csrf()
    user = StaffUser(found, auth_context().policy.hall, method, window)
    login_user(user)
    session["auth_method"] = method
    session["seen"] = _now_stamp()
    if window is not None:
        session["window"] = window
    return user


def end_session() -> None:
    """Logout: every session of this person ends, on every browser."""
    user = current_staff()
    if user is not None:
        state = auth_context()
        with state.db.write(origin=_origin()) as s:
            accounts.end_sessions(s, user.login, state.clock())
    logout_user()
    session.clear()
    _renew_csrf()


def _csrf_header(response: Response) -> Response:
    if g.get("csrf_renewed"):
        response.headers["X-CSRFToken"] = generate_csrf()
    return response


# ---------------------------------------------------------------- window PIN login


def check_window_pin(number: int, login: str, pin: str) -> StaffIdentity:
    """The clerk behind ``login`` + ``pin`` at window ``number``, or Unauthorized/Forbidden.

    Failures are committed (counter, lockout, log) before raising. Then open the
    window, then :func:`start_window_session`, so a refused window leaves no session.
    """
    if not isinstance(login, str) or not isinstance(pin, str):
        raise InvalidInput("clerk and pin are required", code="missing_field")
    state = auth_context()
    with state.db.write(origin=_origin()) as s:
        outcome = accounts.authenticate_pin(
            s, login, pin, state.clock(), state.policy, window=number
        )
    return outcome.raise_for_failure()


def start_window_session(found: StaffIdentity, number: int) -> StaffUser:
    return _start_session(found, "pin", number)


# ---------------------------------------------------------------- devices


def _device_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    return request.cookies.get(DEVICE_COOKIE)


def _verify(token: str) -> devices.DeviceIdentity | None:
    state = auth_context()
    with state.db.read() as s:
        device = devices.verify_device(s, token)
    if device is None or device.hall != state.policy.hall:
        return None
    now = state.clock()
    if device.last_seen_at is None or now - device.last_seen_at > TOUCH_EVERY:
        with state.db.write(origin=_origin()) as s:
            devices.touch_device(s, device.id, now)
        g.renew_device_cookie = token  # browsers cap a cookie at 400 days: renew while in use
    return device


def _without_device_arg() -> str:
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "device"]
    return request.script_root + request.path + ("?" + urlencode(query) if query else "")


def _too_many() -> Response:
    return Response("429 Too Many Requests", 429, {"Retry-After": "60"})


def _load_device() -> ResponseBase | None:
    """``?device=<token>`` on a GET: verify, keep it in a cookie, and drop it from the URL."""
    g.device = None
    if request.endpoint == "static":
        return None  # stylesheets and scripts are public: no look-up per file
    presented = request.args.get("device") if request.method == "GET" else None
    if presented is not None:
        if _verify(presented) is None:
            if not security.hit(security.settings().lookup_rate, "device-link"):
                return _too_many()
            return Response(
                "403 Forbidden: this device link is not valid (revoked or mistyped)", 403
            )
        response = redirect(_without_device_arg())
        _set_device_cookie(response, presented)
        return response
    token = _device_token()
    if token:
        g.device = _verify(token)
        if g.device is None:
            g.drop_device_cookie = DEVICE_COOKIE in request.cookies
            if not security.hit(security.settings().lookup_rate, "device-token"):
                return _too_many()
    return None


def _cookie_path() -> str:
    """The hall's own path: a device of one hall of a deployment is not presented to another."""
    return current_app.config["SESSION_COOKIE_PATH"] or "/"


def _set_device_cookie(response: ResponseBase, token: str) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=security.settings().device_cookie_days * 86400,
        path=_cookie_path(),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )


def _device_cookie_upkeep(response: Response) -> Response:
    if g.get("drop_device_cookie"):
        response.delete_cookie(DEVICE_COOKIE, path=_cookie_path(), httponly=True, samesite="Lax")
    elif g.get("device") and g.get("renew_device_cookie") and DEVICE_COOKIE in request.cookies:
        _set_device_cookie(response, g.renew_device_cookie)
    return response


# ---------------------------------------------------------------- idle sessions


def _idle_too_long(user: StaffUser, now: float) -> bool:
    limits = security.settings()
    idle = limits.window_idle if user.method == "pin" else limits.idle
    seen = session.get("seen")
    return not isinstance(seen, (int, float)) or now - seen > idle.total_seconds()


def _expire_session() -> None:
    """Drop a session whose person was refused by the loader, or that sat idle too long."""
    if "_user_id" not in session or request.endpoint == "static":
        return
    user = current_staff()
    now = _now_stamp()
    if user is None or _idle_too_long(user, now):
        logout_user()
        session.clear()
        return
    if now - session["seen"] > TOUCH_EVERY.total_seconds():
        session["seen"] = now


# ---------------------------------------------------------------- Socket.IO


def may_join_room(room: str) -> bool:
    """For a Socket.IO ``join``: the login and device of the connection's handshake
    (its session and device cookies, or a bearer token) decide, as for a request."""
    user = current_staff()
    if user is not None and _idle_too_long(user, _now_stamp()):
        user = None
    token = _device_token()
    return may_join(room, user, _verify(token) if token else None)


def screen_of_connection() -> devices.DeviceIdentity | None:
    """For a screen's Socket.IO reports: the connection's device, if it is a screen (read
    anew each time, so a revoked screen stops counting at once)."""
    token = _device_token()
    device = _verify(token) if token else None
    return device if device is not None and device.kind == "screen" else None


# ---------------------------------------------------------------- views


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _login_error(code: str | None) -> str:
    if code == "locked":
        return gettext("Too many wrong attempts: locked for now; try later or ask an admin")
    if code == "account_disabled":
        return gettext("This account is disabled")
    return gettext("Unknown login or wrong password")


def _password_login(login: Any, password: Any) -> StaffUser:
    if not isinstance(login, str) or not isinstance(password, str):
        raise InvalidInput("login and password are required", code="missing_field")
    state = auth_context()
    with state.db.write(origin=_origin()) as s:
        outcome = accounts.authenticate_password(s, login, password, state.clock(), state.policy)
    return _start_session(outcome.raise_for_failure(), "password")


@bp.route("/login", methods=["GET", "POST"])
@access("public")
@csrf_always
@login_limits
def login() -> Any:
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next=next_url, error=None)
    try:
        _password_login(request.form.get("login"), request.form.get("password"))
    except (Unauthorized, InvalidInput) as exc:
        return render_template(
            "login.html",
            next=next_url,
            error=_login_error(exc.code),
            login=request.form.get("login", ""),
        ), 401
    return redirect(request.script_root + next_url)  # next is a path within this hall


@bp.post("/logout")
@access("public")
def logout() -> Any:
    end_session()
    return redirect(url_for("auth.login"))


@bp.get("/api/v1/session")
@access("public")
@api.validate(resp=answers(HTTP_200=WhoAmI))
def whoami() -> Any:
    """Who this browser is (staff, device, both or neither) and its CSRF token."""
    user, device = current_staff(), current_device()
    return jsonify(
        staff=user.to_dict() if user else None,
        device={"id": device.id, "kind": device.kind, "name": device.name, "scope": device.scope}
        if device
        else None,
        csrf_token=generate_csrf(),
    )


@bp.post("/api/v1/session")
@access("public")
@csrf_always
@login_limits
@api.validate(resp=answers(HTTP_200=LoggedIn, errors=(401,)))
def api_login(json: PasswordLogin) -> Any:
    user = _password_login(json.login, json.password)
    return jsonify(staff=user.to_dict(), csrf_token=generate_csrf())


@bp.delete("/api/v1/session")
@access("public")
@api.validate(resp=answers(HTTP_200=LoggedOut))
def api_logout() -> Any:
    end_session()
    return jsonify(staff=None)


# ---------------------------------------------------------------- personal data


def record_unmasked_read(
    case_number: str,
    fields: tuple[str, ...] = ("name", "id_number", "phone"),
    purpose: str | None = None,
) -> None:
    """Call where a view shows a case's personal data unmasked (PIPL audit)."""
    user = current_staff()
    if user is None:
        raise Unauthorized("log in first", code="login_required")
    state = auth_context()
    with state.db.write(origin=_origin()) as s:
        security_log.log_personal_data_read(
            s, user.login, case_number, state.clock(), fields=fields, purpose=purpose
        )


# ---------------------------------------------------------------- wiring


def init_app(
    app: Flask, db: Database, config: HallConfig, clock: Clock, policy: StaffPolicy | None = None
) -> None:
    """Call from ``create_app`` after the blueprints are registered."""
    policy = policy or StaffPolicy.from_config(config)
    app.extensions["hall_auth"] = AuthContext(db, clock, policy)
    security.init_security(app, config, policy.hall)
    login_manager.init_app(app)
    app.before_request(_load_device)
    # CSRF before expiry: the token of a session that just expired still proves the page was
    # ours, so the caller hears "log in again" (401) rather than a CSRF refusal.
    app.before_request(security.check_csrf)
    app.before_request(_expire_session)
    app.after_request(_device_cookie_upkeep)
    app.after_request(_csrf_header)
    app.register_blueprint(bp)
    if "static" in app.view_functions:
        mark_public(app, "static")
    app.jinja_env.globals["current_staff"] = current_staff
