"""Access rules: every view says who may use it, and the rule is kept on the view.

::

    @bp.post("/windows/<int:number>/call-next")
    @access("clerk_at_window")                      # window from <number>
    def call_next(number): ...

    @bp.get("/backoffice/<department>/cases")
    @access("approver", department_arg="department")
    def cases(department): ...

    @bp.get("/screen")
    @access("device", kinds=("screen",), scope_args=("zone", "window"), also=("manager",))
    def screen(): ...

    @bp.get("/cases/<number>/slip")
    @access("clerk", also=("approver",))            # any clerk at a window, any approver
    def slip(number): ...

``@access`` goes directly under the route decorator: the route registers the
wrapped view, so :func:`views_without_rule` (walking ``app.url_map``) finds
every view that has no rule, including one decorated in the wrong order.
Admins are not super-users: each rule names the roles it admits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, g, redirect, request, url_for
from flask_login import current_user

from displays.screens import ROOM
from hall_ops.errors import Forbidden, Unauthorized
from hall_ops.staff.devices import DeviceIdentity
from hall_ops.staff.models import DEVICE_KINDS, ROLES

F = TypeVar("F", bound=Callable[..., Any])

RULES = ("public", "device", "staff", "clerk", "clerk_at_window", "approver", "manager", "admin")
"""``clerk``: a clerk logged in at a window (or a person holding the clerk role)."""


@dataclass(frozen=True)
class AccessRule:
    name: str
    kinds: tuple[str, ...] = ()
    """``device``: the device kinds admitted (empty: any)."""
    scope_args: tuple[str, ...] = ()
    """``device``: what is shown (``zone``, ``window``), read from the argument of that name
    (``window``: from ``window_arg`` if given); the device must cover it."""
    window_arg: str | None = None
    """The URL or query argument holding the window number (``clerk_at_window``: default
    ``number``; ``device``: default ``window``)."""
    department_arg: str | None = None
    """``approver``: the argument holding the department; None admits an approver of any
    department, and the view checks the department it finds with :func:`require_department`."""
    also: tuple[str, ...] = ()
    """Roles admitted besides (``manager`` on a screen page, say)."""


def access(
    name: str,
    *,
    kinds: tuple[str, ...] = (),
    scope_args: tuple[str, ...] = (),
    window_arg: str | None = None,
    department_arg: str | None = None,
    also: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Declare and enforce who may use a view (checked at import time for typos)."""
    if name not in RULES:
        raise ValueError(f"unknown access rule {name!r}; one of {RULES}")
    if set(kinds) - set(DEVICE_KINDS) or (kinds or scope_args) and name != "device":
        raise ValueError(
            f"kinds/scope_args belong to a device rule, with kinds from {DEVICE_KINDS}"
        )
    if set(scope_args) - {"zone", "window"}:
        raise ValueError("scope_args: zone and/or window")
    if window_arg and name not in ("device", "clerk_at_window"):
        raise ValueError("window_arg belongs to a device or clerk_at_window rule")
    if department_arg and name != "approver":
        raise ValueError("department_arg belongs to an approver rule")
    if set(also) - set(ROLES):
        raise ValueError(f"also: roles are {ROLES}")
    rule = AccessRule(
        name, tuple(kinds), tuple(scope_args), window_arg, department_arg, tuple(also)
    )

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            enforce(rule, kwargs)
            return view(*args, **kwargs)

        checked.access_rule = rule  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return decorate


# ---------------------------------------------------------------- who is asking


def current_staff() -> Any | None:
    """The logged-in ``StaffUser``, or None."""
    return current_user if current_user.is_authenticated else None


def current_device() -> DeviceIdentity | None:
    return g.get("device")


# ---------------------------------------------------------------- decisions


def _arg(name: str, view_args: Mapping[str, Any]) -> Any:
    return view_args[name] if name in view_args else request.args.get(name)


def _window(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    # ASCII only: "²".isdigit() is true and int("²") fails; nine digits never overflow.
    ok = isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9
    return int(value) if ok else None


def _scope_arg(rule: AccessRule, scope: str) -> str:
    return (rule.window_arg or "window") if scope == "window" else scope


def decide(
    rule: AccessRule, user: Any | None, device: DeviceIdentity | None, view_args: Mapping[str, Any]
) -> str:
    """``ok``, ``login`` (nobody is logged in who could be admitted) or ``forbidden``."""
    if rule.name == "public":
        return "ok"
    if user is not None and any(user.has_role(role) for role in rule.also):
        return "ok"
    if rule.name == "device":
        asked = [
            f"{scope}:{value}"
            for scope in rule.scope_args
            if (value := _arg(_scope_arg(rule, scope), view_args))
        ] or (["hall"] if rule.scope_args else [])  # no zone or window named: the whole hall
        if (
            device is not None
            and (not rule.kinds or device.kind in rule.kinds)
            and all(device.covers(scope) for scope in asked)
        ):
            return "ok"
        # nothing presented, but a role could come in: offer the login
        return "login" if user is None and device is None and rule.also else "forbidden"
    if user is None:
        return "login"
    if rule.name == "staff":
        return "ok"
    if rule.name == "clerk_at_window":
        number = _window(_arg(rule.window_arg or "number", view_args))
        return "ok" if number is not None and user.is_clerk_at(number) else "forbidden"
    if rule.name == "approver":
        department = _arg(rule.department_arg, view_args) if rule.department_arg else None
        return "ok" if user.has_role("approver", department=department or None) else "forbidden"
    return "ok" if user.has_role(rule.name) else "forbidden"


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def enforce(rule: AccessRule, view_args: Mapping[str, Any]) -> None:
    if rule.name == "public":  # asks nobody who is there (a deployment's root has no logins)
        return
    verdict = decide(rule, current_staff(), current_device(), view_args)
    if verdict == "ok":
        return
    if _wants_json():
        if verdict == "login":
            raise Unauthorized("log in first", code="login_required")
        raise Forbidden("not allowed for this login or device", code="forbidden")
    if verdict == "login":
        # a clerk logs in with the PIN at the window, in the console; everyone else by password
        login = "clerks.clerk" if rule.name == "clerk_at_window" else "auth.login"
        abort(redirect(url_for(login, next=request.full_path.rstrip("?"))))
    abort(403)


def require_department(department: str) -> None:
    """In a view under ``@access("approver")``: the case's department must be one of the user's."""
    user = current_staff()
    if user is None or not user.has_role("approver", department=department):
        raise Forbidden(f"not an approver of department {department}", code="forbidden")


# ---------------------------------------------------------------- the map


def rule_of(app: Flask, endpoint: str) -> AccessRule | None:
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def views_without_rule(app: Flask) -> list[str]:
    """``"<rule> -> <endpoint>"`` for every URL whose view declares no access rule."""
    return sorted(
        f"{url.rule} -> {url.endpoint}"
        for url in app.url_map.iter_rules()
        if rule_of(app, url.endpoint) is None
    )


def mark_public(app: Flask, endpoint: str) -> None:
    """Give a view registered by a library (``static``) the public rule."""
    app.view_functions[endpoint] = access("public")(app.view_functions[endpoint])


# ---------------------------------------------------------------- Socket.IO rooms


def may_join(room: str, user: Any | None, device: DeviceIdentity | None) -> bool:
    """``hall`` and ``zone:<code>`` carry masked data only: anyone. ``manager``: managers.
    ``window:<n>`` (the window's console view, its ticket's token included): the clerk logged
    in at that window, or a screen or rating pad showing it — not a kiosk."""
    if not ROOM.match(room):
        return False
    if room == "hall" or room.startswith("zone:"):
        return True
    if room == "manager":
        return user is not None and user.has_role("manager")
    number = int(room.split(":")[1])
    return (user is not None and user.is_clerk_at(number)) or (
        device is not None and device.kind in ("screen", "pad") and device.covers(room)
    )
