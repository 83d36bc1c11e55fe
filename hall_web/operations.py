"""For the operator's tools, not people: ``/healthz``, ``/readyz`` and ``/metrics``.

``/healthz``: the process answers (systemd, a load balancer's liveness check).
``/readyz``: the process can do its work: the database answers, Redis answers when a
message queue is configured, the scheduler runs when this process runs the jobs; the
cameras are summarised but never make a hall unready (it counts people without them).
``/metrics``: Prometheus (``hall_web.metrics``). Access: see ``ACCESS``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from hall_web.access import access
from hall_web.context import current_hall
from hall_web.metrics import HallMetrics
from sensors.status import camera_statuses

log = logging.getLogger(__name__)

bp = Blueprint("operations", __name__)

ACCESS = {
    "operations.healthz": "public",
    "operations.readyz": "public",
    "operations.metrics": "metrics",
}
"""Who may call each route. ``metrics``: with ``[metrics] token`` set, a request bearing
``Authorization: Bearer <token>``; without one, loopback clients only (the address as
ProxyFix gives it, so a request through nginx counts as its client's, not nginx's)."""


@bp.get("/healthz")
@access("public")
def healthz() -> Any:
    return jsonify({"status": "alive"})


@bp.get("/readyz")
@access("public")
def readyz() -> Any:
    checks = {"database": _check(_database)}
    url = current_hall().socketio.server_options.get("message_queue") or ""
    if url.startswith(("redis://", "rediss://", "unix://")):
        checks["redis"] = _check(lambda: _redis(url))
    scheduler = current_app.extensions.get("scheduler")
    if scheduler is not None:
        checks["scheduler"] = {"ok": bool(scheduler.running),
                               "jobs": len(scheduler.get_jobs())}
    ready = all(check["ok"] for check in checks.values())
    answer: dict[str, Any] = {"status": "ready" if ready else "not_ready", "checks": checks}
    if checks["database"]["ok"]:
        answer["cameras"] = _cameras()
    return jsonify(answer), 200 if ready else 503


@bp.get("/metrics")
@access("public")  # its own rule: loopback or the [server] metrics token
def metrics() -> Response:
    if not _metrics_allowed():
        return Response("metrics: not for this client\n", status=403, mimetype="text/plain")
    registry = current_app.extensions["metrics"].registry
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_operations(app: Flask) -> None:
    """Register the blueprint and the metrics of ``app`` (a subscriber of its database)."""
    hall = app.extensions["hall"]
    metrics = HallMetrics(hall, lambda: app.extensions.get("scheduler"))
    hall.db.subscribe(metrics.observe)
    app.extensions["metrics"] = metrics
    app.register_blueprint(bp)


def _metrics_allowed() -> bool:
    token = current_hall().config.raw.get("metrics", {}).get("token") or ""
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), str(token).encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _check(probe: Any) -> dict[str, Any]:
    try:
        probe()
    except Exception as exc:  # any failure means "not ready"; the log has the details
        log.warning("readiness check failed", exc_info=True)
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def _database() -> None:
    with current_hall().db.read() as session:
        session.execute(text("SELECT 1"))


def _redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def _cameras() -> dict[str, int]:
    hall = current_hall()
    with hall.db.read() as session:
        cameras = camera_statuses(hall.config, session)
    summary: dict[str, int] = {}
    for camera in cameras:
        summary[camera["status"]] = summary.get(camera["status"], 0) + 1
    return summary
