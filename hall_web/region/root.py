"""The root app of a deployment: a small Flask app at ``/``, the halls mounted beside it.

It has no hall of its own: no hall database, no Socket.IO server. What it serves spans
the halls (``halls.bp``: the list of halls, page and API); other blueprints add to it
through ``create_root_app(…, blueprints=…)``. Every view carries an access rule
(``hall_web.access``), as in a hall.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from hall_ops.errors import HallError
from hall_ops.region.deployment import Deployment
from hall_web.access import mark_public
from hall_web.api import init_api
from hall_web.error_messages import translated
from hall_web.i18n import init_babel
from hall_web.region import halls


def create_root_app(deployment: Deployment, *, secret_key: str,
                    blueprints: Iterable[Blueprint] = ()) -> Flask:
    app = Flask("hall_web", instance_path=str(deployment.instance))
    app.config.update(SECRET_KEY=secret_key, JSON_AS_ASCII=False,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True)
    proxies = deployment.file.server.trusted_proxies
    if proxies:  # as a hall does (each hall app applies its own: the same [server] setting)
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies)
    init_api(app)
    init_babel(app)
    app.extensions["deployment"] = deployment
    for blueprint in (halls.bp, *blueprints):
        app.register_blueprint(blueprint)
    mark_public(app, "static")
    _register_error_handlers(app)
    return app


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HallError)
    def hall_error(exc: HallError) -> tuple[Any, int]:
        return jsonify(translated(exc.to_dict())), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if not request.path.startswith("/api/"):
            return exc
        name = (exc.name or "error").lower().replace(" ", "_")
        return jsonify(translated({"error": name, "message": exc.description})), exc.code
