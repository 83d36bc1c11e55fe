"""Browser-facing defences: CSRF, rate limits, security headers, cookie flags.

CSRF: Flask-WTF's token, sent by our pages as the ``X-CSRFToken`` header
(from ``<meta name="csrf-token">``) or the ``csrf_token`` form field. It is
required on every state-changing request that carries one of our cookies (the
session or the device cookie), because only those have authority a forged
request could borrow; a request without them is no more than its sender could
do openly (a citizen taking a ticket, a signed server-to-server callback).
Logins require it even without a cookie (``@csrf_always``), so a page elsewhere
cannot log a browser in as someone else. SameSite=Lax alone is not enough: a
page served on the same host, or a sibling subdomain, is "same-site".

Rate limits (Flask-Limiter): counted on failures only, so a clerk logging in
and out all day, or a ticket page polling its status, is never throttled;
memory storage in one process, Redis when several processes share a hall.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from limits import parse_many

from hall_ops.config import ConfigError, HallConfig

F = TypeVar("F", bound=Callable[..., Any])

DEVICE_COOKIE = "hall_device"

def _hall_address() -> str:
    """The caller's address within this hall: the limiter is one per process, and a process
    may serve many halls (a deployment), whose counters must not add up."""
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:{get_remote_address()}"


limiter = Limiter(key_func=_hall_address)
csrf = CSRFProtect()


@dataclass(frozen=True)
class SecuritySettings:
    """``[security]`` in config.toml; every key optional."""

    idle: dt.timedelta = dt.timedelta(minutes=30)
    """A staff session unused this long ends."""
    window_idle: dt.timedelta = dt.timedelta(hours=2)
    """The same for a clerk's window session (a quiet window is not an abandoned one)."""
    login_rate: str = "10 per minute; 60 per hour"
    """Failed logins per address."""
    account_rate: str = "10 per 15 minutes"
    """Failed logins per account, from any address (the account also locks itself)."""
    lookup_rate: str = "20 per minute; 200 per hour"
    """Failed look-ups per address: ticket tokens, delivery check-in, device links."""
    rate_limit_storage: str = "memory://"
    device_cookie_days: int = 400
    """Browsers cap cookie lifetimes at 400 days; the device cookie is renewed on use."""

    @classmethod
    def from_config(cls, config: HallConfig) -> SecuritySettings:
        section = config.sections.security.model_dump(exclude_none=True)
        values: dict[str, Any] = {}
        for key in ("idle_minutes", "window_idle_minutes"):
            if key in section:
                minutes = section[key]
                if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
                    raise ConfigError(f"[security]: '{key}' must be a positive whole number")
                values[key.removesuffix("_minutes")] = dt.timedelta(minutes=minutes)
        for key in ("login_rate", "account_rate", "lookup_rate"):
            if key in section:
                try:
                    parse_many(str(section[key]))
                except ValueError as exc:
                    raise ConfigError(
                        f"[security]: '{key}' is not a rate such as '10 per minute'"
                    ) from exc
                values[key] = str(section[key])
        storage = section.get("rate_limit_storage") or _shared_redis(config)
        if storage:
            values["rate_limit_storage"] = storage
        return cls(**values)


def _shared_redis(config: HallConfig) -> str | None:
    """Processes sharing a Redis message queue share their counters there too: per-process
    counters would multiply every limit by the number of processes."""
    queue = config.message_queue or ""
    return queue if queue.startswith(("redis://", "rediss://")) else None


def settings() -> SecuritySettings:
    return current_app.extensions["hall_security"]


# ---------------------------------------------------------------- rate limits


def _failed(response: Response) -> bool:
    return response.status_code >= 400


def _account_key() -> str:
    data = request.get_json(silent=True) if request.is_json else None
    data = data if isinstance(data, dict) else request.form
    login = data.get("login") or data.get("clerk") or ""
    return (f"{current_app.config['RATELIMIT_KEY_PREFIX']}:"
            f"account:{str(login).strip().lower()[:32]}")


def login_limits(view: F) -> F:
    """Failed logins limited per address and per account (any view that checks a secret).
    The counters are shared by every login view, so a guesser gains nothing by taking turns
    between the login page, the API and the windows."""
    limited: Any = limiter.shared_limit(
        lambda: settings().account_rate,
        "login-account",
        key_func=_account_key,
        deduct_when=_failed,
        methods=["POST"],
    )(view)
    both: F = limiter.shared_limit(
        lambda: settings().login_rate, "login-address", deduct_when=_failed, methods=["POST"]
    )(limited)
    both.rate_limited = True  # type: ignore[attr-defined]  # the document says 429
    return both


def lookup_limits(view: F) -> F:
    """Failed look-ups limited per address: ticket tokens, booking codes, case number + phone
    digits; one counter for all of them, however the guesses are spread."""
    limited: Any = limiter.shared_limit(
        lambda: settings().lookup_rate, "lookup", deduct_when=_failed
    )(view)
    limited.rate_limited = True  # the document says 429
    return limited


def issue_limits(view: F) -> F:
    """Every call counted per address (not just failures): tickets issued from outside the
    hall (remote tickets), so nobody can use up a day's numbers from one phone."""
    limited: Any = limiter.shared_limit(lambda: settings().lookup_rate, "issue")(view)
    limited.rate_limited = True  # the document says 429
    return limited


def hit(rate: str, key: str) -> bool:
    """Count one event outside a view (device links); False once over ``rate``.
    Like the decorated limits, a storage outage lets the request through."""
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
    try:
        return all(
            limiter.limiter.hit(item, prefix, key, get_remote_address())
            for item in parse_many(rate)
        )
    except Exception:
        current_app.logger.warning("rate-limit storage unavailable", exc_info=True)
        return True


# ---------------------------------------------------------------- CSRF


def csrf_always(view: F) -> F:
    """A view that checks CSRF even from a browser with no cookie of ours (logins)."""
    view.csrf_always = True  # type: ignore[attr-defined]
    return view


def check_csrf() -> None:
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    carries_authority = bool(
        request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])
        or request.cookies.get(DEVICE_COOKIE)
    )
    if carries_authority or getattr(view, "csrf_always", False):
        csrf.protect(apply_exemptions=True)


# ---------------------------------------------------------------- headers and cookies


def framed_by_self(view: F) -> F:
    """A page the hall's own pages show in a frame (the kiosk prints the ticket slip from
    one); every other page may not be framed at all."""

    @functools.wraps(view)
    def framed(*args: Any, **kwargs: Any) -> Any:
        g.frame_ancestors = "'self'"
        return view(*args, **kwargs)

    return framed  # type: ignore[return-value]


def content_security_policy() -> str:
    """No inline script, no framing; styles may still be inline (``<style>`` blocks in pages).
    WebSocket URLs are named because older browsers do not count ws: as 'self'."""
    host = request.host
    frame_ancestors = g.get("frame_ancestors", "'none'")
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            f"connect-src 'self' ws://{host} wss://{host}",
            "media-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault(
        "X-Frame-Options", "SAMEORIGIN" if g.get("frame_ancestors") == "'self'" else "DENY"
    )
    # same-origin, not no-referrer: Flask-WTF checks the Referer of HTTPS form posts.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


class HallSessionInterface(SecureCookieSessionInterface):
    """The session cookie is ``Secure`` whenever the request came over HTTPS (behind a
    proxy: with ProxyFix), without a setting that would break plain-HTTP demo halls."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


def _csrf_refused(exc: CSRFError) -> Any:
    if request.path.startswith("/api/"):
        return jsonify({"error": "csrf_failed", "message": exc.description}), 403
    return f"403 Forbidden: {exc.description}", 403


def init_security(app: Flask, config: HallConfig, hall: str) -> SecuritySettings:
    """Everything but the CSRF check itself, which ``hall_web.auth`` orders after
    the session and device are known (``check_csrf``)."""
    values = SecuritySettings.from_config(config)
    app.extensions["hall_security"] = values
    app.config.update(
        RATELIMIT_STORAGE_URI=values.rate_limit_storage,
        RATELIMIT_KEY_PREFIX=f"hall-ops:{hall}",
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,  # a Redis outage must not stop logins (accounts still lock)
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session; sessions expire when idle
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.session_interface = HallSessionInterface()
    limiter.init_app(app)
    csrf.init_app(app)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.after_request(security_headers)
    return values
