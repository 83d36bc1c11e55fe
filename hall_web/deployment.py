"""A deployment's WSGI app: the root app at ``/`` and every hall's app at ``/h/<code>/``.

Each hall is today's whole single-hall app (``hall_web.app.create_app``) with its own
database, Socket.IO server (engine.io at ``/h/<code>/socket.io``; with a Redis message
queue, its own channel ``<channel>:<code>``), session cookie (path ``/h/<code>/``) and
metrics registry. werkzeug's ``DispatcherMiddleware`` passes each request to its hall
with ``SCRIPT_NAME`` set to the prefix, so every URL Flask makes (``url_for``, redirects)
carries it, and the pages give it to their scripts (``Hall.url`` in common.js).

What is one per process is the deployment's: the personal-data key and the licence keys
(``instance/`` beside deployment.toml, shared by its halls), the pool of PostgreSQL
connections (``hall_ops.db``), the rate limiter's storage and the leader that runs every
hall's scheduled jobs (``hall_web.jobs.start_deployment_jobs``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from hall_ops.clock import Clock, system_clock
from hall_ops.config import ConfigError
from hall_ops.region.deployment import Deployment
from hall_ops.region.directory import HallDirectory
from hall_ops.staff.policy import StaffPolicy
from hall_web.app import _secret_key, create_app
from hall_web.region.root import create_root_app

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

PREFIX = "/h/"


def hall_prefix(code: str) -> str:
    return f"{PREFIX}{code}"


def create_deployment(
    path: str | Path | Deployment,
    *,
    async_mode: str | None = None,
    clock: Clock = system_clock,
    always_open: bool = False,
    database_url: str | None = None,
    message_queue: str | None = None,
    blueprints: tuple[Blueprint, ...] = (),
    staff_policy: StaffPolicy | None = None,
) -> Flask:
    """The root app, with every hall of the deployment mounted under it.

    ``root.extensions["deployment"]`` is the ``Deployment`` (``HallDirectory``) and
    ``root.extensions["halls"]`` each hall's app by code; in a hall's request the directory
    is ``hall_web.context.hall_directory()``. ``blueprints`` go to the root."""
    deployment = path if isinstance(path, Deployment) else Deployment(
        path, database_url=database_url, message_queue=message_queue)
    deployment.prepare()
    _check_one_library(deployment)

    directory: HallDirectory = deployment

    def build(code: str) -> Flask:
        app = create_app(
            deployment.config(code), clock=clock, always_open=always_open,
            async_mode=async_mode or deployment.file.server.async_mode,
            message_queue=deployment.message_queue, database=deployment.database(code),
            prefix=hall_prefix(code), key_folder=deployment.instance,
            staff_policy=staff_policy,
        )
        app.extensions["hall_directory"] = directory  # hall_web.context.hall_directory()
        return app

    halls = {ref.code: build(ref.code) for ref in deployment.halls()}
    root = create_root_app(deployment, secret_key=_secret_key(deployment.instance),
                           blueprints=blueprints)
    root.extensions["halls"] = halls
    root.extensions["build_hall"] = build
    mounts: dict[str, WSGIApplication] = {hall_prefix(code): app for code, app in halls.items()}
    root.wsgi_app = DispatcherMiddleware(root.wsgi_app, mounts)  # type: ignore[method-assign]
    return root


def mount_hall(root: Flask, code: str) -> Flask:
    """Serve a hall added to the ``halls`` table since the start (an admin's new hall) in
    this process: its app built and mounted at ``/h/<code>/``, and its jobs under the
    deployment's leader if this process runs jobs. Other processes serve it from their
    next start (or their own ``mount_hall``)."""
    deployment: Deployment = root.extensions["deployment"]
    deployment.refresh()
    _check_one_library(deployment)
    halls: dict[str, Flask] = root.extensions["halls"]
    if code in halls:
        return halls[code]
    app: Flask = root.extensions["build_hall"](code)
    halls[code] = app
    dispatcher: DispatcherMiddleware = root.wsgi_app  # type: ignore[assignment]
    dispatcher.mounts[hall_prefix(code)] = app
    if "leader" in root.extensions:
        from hall_web.jobs import join_deployment_jobs

        join_deployment_jobs(root, app)
    return app


def _check_one_library(deployment: Deployment) -> None:
    """The e-licence library is one per process (``hall_ops.licences.library``): its time
    zone and trusted issuers must be the same in every hall of a deployment."""
    seen: dict[str, tuple[str, str]] = {}
    for ref in deployment.halls():
        config = deployment.config(ref.code)
        seen[ref.code] = (config.timezone.key, config.sections.licences.model_dump_json())
    if len(set(seen.values())) > 1:
        raise ConfigError("the halls of a deployment differ in [hall] timezone or [licences] "
                          f"({', '.join(sorted(seen))}): the licence library is one per "
                          "deployment, so they must agree")
