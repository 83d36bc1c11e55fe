"""Application factory: one hall, one database, one Socket.IO server.

Blueprints by audience: ``citizens`` (ticket, ticket page, guides — no login; kiosk,
screens and rating pads — devices), ``clerks`` (window console, intake), ``backoffice``
(approval), ``managers`` (live floor, workload, reports), ``admin`` (staff, devices,
security log, hand-off outbox). Every view carries its access rule (``hall_web.access``);
``hall_web.auth`` knows who is asking.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from displays.screens import Publisher, register_handlers
from hall_ops.cases.approval import backends_from_config
from hall_ops.cases.catalogue import load_catalogue
from hall_ops.cases.notices import settings_from_config
from hall_ops.clock import Clock, system_clock
from hall_ops.config import ASYNC_MODES, ConfigError, HallConfig, load_config
from hall_ops.db import Database
from hall_ops.errors import HallError
from hall_ops.evaluation.export import with_platform
from hall_ops.evaluation.ratings import EvaluationRules
from hall_ops.floor.auto_mode import ensure_auto_row
from hall_ops.hall import load_hall
from hall_ops.licences import library as licence_library
from hall_ops.licences import signing
from hall_ops.licences.archiving import connect_archive
from hall_ops.licences.store import store_from_config
from hall_ops.printing import printers_from_config
from hall_ops.privacy import PersonalDataCipher, install
from hall_ops.queue import silent
from hall_ops.staff.policy import StaffPolicy
from hall_web import (
    admin,
    auth,
    backoffice,
    citizens,
    clerks,
    evaluation,
    forms,
    licences,
    managers,
    notify,
    openapi,
    supervision,
)
from hall_web.api import init_api, register_api
from hall_web.context import HallContext
from hall_web.error_messages import translated
from hall_web.i18n import init_i18n
from hall_web.logs import init_request_ids
from hall_web.operations import init_operations


def _secret_key(instance: Path) -> str:
    """A per-installation key, made once, so clerk sessions survive a restart."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(
    config: str | Path | HallConfig,
    *,
    clock: Clock = system_clock,
    always_open: bool = False,
    database_url: str | None = None,
    async_mode: str | None = None,
    message_queue: str | None = None,
    secret_key: str | None = None,
    staff_policy: StaffPolicy | None = None,
    database: Database | None = None,
    prefix: str = "",
    key_folder: Path | None = None,
) -> Flask:
    """``staff_policy``: how passwords are hashed and accounts lock (default: ``[security]``
    of the config, argon2id at its standard cost).

    A hall of a deployment (``hall_web.deployment``) is given its ``database`` (a schema or
    a file of the deployment's), the ``prefix`` it is mounted under (``/h/<code>``: its
    session cookie is its own, so logging in at one hall leaves another's session alone)
    and the deployment's ``key_folder``: the personal-data key and the departments'
    licence keys are one per process (``hall_ops.privacy``, ``licence_library``), so every
    hall of a deployment uses the deployment's. Default: the hall's instance folder."""
    hall = config if isinstance(config, HallConfig) else load_config(config)
    notices = settings_from_config(hall.sections.notices.model_dump(exclude_none=True))
    async_mode = async_mode or hall.async_mode
    if async_mode not in ASYNC_MODES:
        raise ConfigError(f"async_mode must be one of {ASYNC_MODES}, got {async_mode!r}")

    # hall_web/static and hall_web/templates, Flask's defaults: static is a symlink to the
    # top-level static/ in the source tree and a real folder in the wheel. instance/ (the
    # secret key) sits beside the config file, as the default SQLite file does.
    app = Flask("hall_web", instance_path=str(hall.instance))
    app.config.update(
        SECRET_KEY=secret_key or _secret_key(Path(app.instance_path)),
        JSON_AS_ASCII=False,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if prefix:
        app.config.update(APPLICATION_ROOT=prefix, SESSION_COOKIE_PATH=prefix + "/",
                          SESSION_COOKIE_NAME="session" + prefix.replace("/", "_"))
    keys = key_folder or Path(app.instance_path)
    init_api(app)
    # Resident ID numbers are encrypted under a key kept outside the database.
    install(PersonalDataCipher.from_instance(keys))
    # Licences are signed with the departments' keys, kept in the instance folder too.
    library_config = hall.sections.licences
    licence_library.install(licence_library.Library(
        signing.Keyring.in_instance(keys, library_config.algorithm), hall.timezone,
        {i.name: licence_library.TrustedIssuer(i.name, i.algorithm, i.public_key)
         for i in library_config.trusted_issuers},
    ))
    proxies = hall.server.trusted_proxies
    if proxies:  # believe X-Forwarded-For/-Proto from exactly that many proxies (nginx: 1)
        fixed = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
        app.wsgi_app = fixed  # type: ignore[method-assign]
    init_request_ids(app)

    db = database or Database(database_url or hall.database_url)
    app.logger.info("database schema %s", db.prepare_schema(upgrade=hall.schema_upgrade))
    with db.write() as session:
        db.serialise_setup(session)
        load_hall(session, hall)
        catalogue = hall.sections.catalogue.path
        if catalogue:
            load_catalogue(session, hall.base_dir / catalogue)
        licence_library.publish_department_keys(session, clock())

    message_queue = message_queue or hall.message_queue
    socketio = SocketIO(
        app,
        async_mode=async_mode,
        message_queue=message_queue,
        channel=hall.sections.server.message_queue_channel,
    )
    db.subscribe(Publisher(socketio, db, hall, clock).publish)
    ensure_auto_row(db)
    backends = backends_from_config(
        hall.sections.approval.model_dump(exclude_none=True), db, clock=clock
    )
    backends = with_platform(backends, hall.sections.evaluation.platform)
    store = store_from_config(hall.sections.materials, app.instance_path)
    connect_archive(db, store)  # the archive packs the scans and licences of a finished case
    gateway = silent.gateway_of(notices.channels)
    silent_calling = (silent.SilentCalling(db, gateway, hall, clock, notices.policy)
                      if gateway else None)
    if silent_calling is not None:  # after commit, in the background: calls never wait for it
        db.subscribe(silent_calling.on_events)
    app.extensions["hall"] = HallContext(
        hall, db, clock, socketio, backends, always_open, message_queue, notices,
        material_store=store, evaluation=EvaluationRules.from_config(hall),
        link_secret=app.config["SECRET_KEY"], silent_calling=silent_calling,
        printers=printers_from_config(hall.sections),
    )
    register_handlers(socketio, db, hall, clock, auth.may_join_room, auth.screen_of_connection)

    init_i18n(app)
    for blueprint in (citizens.bp, clerks.bp, forms.bp, backoffice.bp, managers.bp,
                      supervision.bp, admin.bp, licences.bp, evaluation.bp, notify.bp,
                      openapi.bp):
        app.register_blueprint(blueprint)
    auth.init_app(app, db, hall, clock, staff_policy)
    init_operations(app)
    register_api(app)
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

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error on %s", request.path)
        if request.path.startswith("/api/"):
            answer = {"error": "internal", "message": "internal error; it has been logged"}
            return jsonify(answer), 500
        return "internal error", 500
