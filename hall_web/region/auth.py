"""Regional staff at a deployment's root: managers and admins above one hall log in here.

They are staff of the deployment's database (the same tables as a hall's: ``staff``,
``staff_roles``), checked by the same code (``hall_ops.staff.accounts``: argon2, lockout,
the security log). A grant's hall names a node of the hierarchy and covers everything below
it (``hall_ops.region.access``). The blueprint is named ``auth`` with a hall's endpoint names,
so ``hall_web.access`` sends a browser without a login to this ``/login``; a hall's own
staff log in at the hall (``/h/<code>/login``, a session cookie of the hall's path) and are
nobody here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
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

from hall_ops.clock import Clock
from hall_ops.db import Database
from hall_ops.errors import InvalidInput, Unauthorized
from hall_ops.region.directory import HallDirectory, HallRef
from hall_ops.staff import accounts
from hall_ops.staff.accounts import StaffIdentity
from hall_ops.staff.policy import StaffPolicy
from hall_web import security
from hall_web.access import access, current_staff
from hall_web.api import answers, api
from hall_web.auth import _csrf_header, _origin, _renew_csrf
from hall_web.i18n import script_messages, script_words
from hall_web.schemas.auth import PasswordLogin
from hall_web.schemas.regional import RegionLoggedIn, RegionLoggedOut, RegionWhoAmI
from hall_web.security import SecuritySettings, csrf_always, login_limits

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.session_protection = "strong"

TOUCH_EVERY = dt.timedelta(minutes=1)


class RegionDirectory(HallDirectory, Protocol):
    """The deployment as the root sees it: its halls, and its own database (the hierarchy
    and the regional staff)."""

    @property
    def db(self) -> Database: ...

    @property
    def name_zh(self) -> str: ...

    @property
    def name_en(self) -> str: ...


@dataclass(frozen=True)
class RegionAuth:
    directory: RegionDirectory
    clock: Clock
    policy: StaffPolicy


def region_auth() -> RegionAuth:
    found: RegionAuth = current_app.extensions["region_auth"]
    return found


class RegionUser(UserMixin):
    """A person of the deployment's database, with what their grants cover now."""

    def __init__(self, identity: StaffIdentity, nodes: Sequence[HallRef]) -> None:
        self.identity = identity
        self._nodes = nodes

    @property
    def login(self) -> str:
        return self.identity.login

    @property
    def name(self) -> str:
        return self.identity.name

    def get_id(self) -> str:
        return f"{self.identity.login}:{self.identity.session_version}"

    def granted(self, role: str) -> set[str]:
        """The nodes this person's grants of ``role`` name (each covering its subtree)."""
        known = {node.code for node in self._nodes}
        return {g.hall for g in self.identity.grants if g.role == role and g.hall in known}

    def has_role(self, role: str, department: str | None = None) -> bool:
        """Held over some node (``hall_web.access``); views narrow to what it covers."""
        return department is None and bool(self.granted(role))

    def departments(self) -> frozenset[str]:
        return frozenset()

    def is_clerk_at(self, number: int) -> bool:
        return False  # no window at the root

    def to_dict(self) -> dict[str, Any]:
        roles = sorted({g.role for g in self.identity.grants if self.granted(g.role)})
        return {"login": self.login, "name": self.name, "roles": roles,
                "nodes": {role: sorted(self.granted(role)) for role in roles}}


def regional_user() -> RegionUser:
    """The logged-in regional person, in a view whose access rule admitted them."""
    user = current_staff()
    if not isinstance(user, RegionUser):
        raise Unauthorized("log in first", code="login_required")
    return user


@login_manager.user_loader
def _load_user(user_id: str) -> RegionUser | None:
    login, _, version = user_id.rpartition(":")
    if not version.isdigit():
        return None
    state = region_auth()
    with state.directory.db.read() as s:
        found = accounts.identity(s, login, int(version))
    return RegionUser(found, state.directory.nodes()) if found is not None else None


def _now_stamp() -> float:
    return region_auth().clock().replace(tzinfo=dt.UTC).timestamp()


def _expire_session() -> None:
    """A session whose person was refused by the loader, or idle too long, ends."""
    if "_user_id" not in session or request.endpoint == "static":
        return
    now = _now_stamp()
    seen = session.get("seen")
    if current_staff() is None or not isinstance(seen, (int, float)) \
            or now - seen > security.settings().idle.total_seconds():
        logout_user()
        session.clear()
        return
    if now - seen > TOUCH_EVERY.total_seconds():
        session["seen"] = now


def _password_login(login: Any, password: Any) -> RegionUser:
    if not isinstance(login, str) or not isinstance(password, str):
        raise InvalidInput("login and password are required", code="missing_field")
    state = region_auth()
    with state.directory.db.write(origin=_origin()) as s:
        outcome = accounts.authenticate_password(s, login, password, state.clock(), state.policy)
    found = outcome.raise_for_failure()
    session.clear()
    _renew_csrf()
    user = RegionUser(found, state.directory.nodes())
    login_user(user)
    session["seen"] = _now_stamp()
    return user


def _end_session() -> None:
    """Logout: every session of this person ends, on every browser."""
    user = current_staff()
    if user is not None:
        state = region_auth()
        with state.directory.db.write(origin=_origin()) as s:
            accounts.end_sessions(s, user.login, state.clock())
    logout_user()
    session.clear()
    _renew_csrf()


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if not target:
        return url_for("region.overview_page")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("region.overview_page")
    return target


def _login_error(code: str | None) -> str:
    if code == "locked":
        return gettext("Too many wrong attempts: locked for now; try later or ask an admin")
    if code == "account_disabled":
        return gettext("This account is disabled")
    return gettext("Unknown login or wrong password")


@bp.route("/login", methods=["GET", "POST"])
@access("public")
@csrf_always
@login_limits
def login() -> Any:
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("region/login.html", next=next_url, error=None)
    try:
        _password_login(request.form.get("login"), request.form.get("password"))
    except (Unauthorized, InvalidInput) as exc:
        return render_template("region/login.html", next=next_url, error=_login_error(exc.code),
                               login=request.form.get("login", "")), 401
    return redirect(next_url)


@bp.post("/logout")
@access("public")
def logout() -> Any:
    _end_session()
    return redirect(url_for("auth.login"))


@bp.get("/api/v1/session")
@access("public")
@api.validate(resp=answers(HTTP_200=RegionWhoAmI))
def whoami() -> Any:
    user = current_staff()
    return jsonify(staff=user.to_dict() if user else None, csrf_token=generate_csrf())


@bp.post("/api/v1/session")
@access("public")
@csrf_always
@login_limits
@api.validate(resp=answers(HTTP_200=RegionLoggedIn, errors=(401,)))
def api_login(json: PasswordLogin) -> Any:
    user = _password_login(json.login, json.password)
    return jsonify(staff=user.to_dict(), csrf_token=generate_csrf())


@bp.delete("/api/v1/session")
@access("public")
@api.validate(resp=answers(HTTP_200=RegionLoggedOut))
def api_logout() -> Any:
    _end_session()
    return jsonify(staff=None)


def init_region_auth(app: Flask, directory: RegionDirectory, clock: Clock, policy: StaffPolicy,
                     settings: SecuritySettings) -> None:
    """Logins, CSRF, rate limits and security headers on a deployment's root app, and the
    page scripts' words (``hall_web.i18n``); call before registering its other blueprints."""
    app.extensions["region_auth"] = RegionAuth(directory, clock, policy)
    app.extensions["hall_script_messages"] = script_messages(Path(app.static_folder or "") / "js")
    security.install_security(app, settings, "region")
    login_manager.init_app(app)
    app.before_request(security.check_csrf)
    app.before_request(_expire_session)
    app.after_request(_csrf_header)
    app.register_blueprint(bp)
    app.jinja_env.globals["current_staff"] = current_staff
    app.context_processor(lambda: {
        "deployment": {"name_zh": directory.name_zh, "name_en": directory.name_en},
        "script_words": script_words})
