"""Which hall apps a deployment's root serves, at ``/h/<code>/``: mounted at start, and
when an admin adds or enables a hall; unmounted when one is disabled (this process)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

PREFIX = "/h/"


def hall_prefix(code: str) -> str:
    return f"{PREFIX}{code}"


def mount_hall(root: Flask, code: str) -> Flask:
    """Start hall ``code``'s app (``root.extensions["start_hall"]``: its schema migrated and
    its config loaded, as at any start) and serve it at ``/h/<code>/``."""
    app: Flask = root.extensions["start_hall"](code)
    root.extensions["halls"][code] = app
    _mounts(root)[hall_prefix(code)] = app
    return app


def unmount_hall(root: Flask, code: str) -> None:
    """Stop serving a disabled hall: ``/h/<code>/`` answers 404 from the root."""
    root.extensions["halls"].pop(code, None)
    _mounts(root).pop(hall_prefix(code), None)


def _mounts(root: Flask) -> dict[str, WSGIApplication]:
    dispatcher = root.wsgi_app
    assert isinstance(dispatcher, DispatcherMiddleware), "not a deployment's root app"
    return dispatcher.mounts
