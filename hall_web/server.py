"""The production server of ``serve`` (and so of ``./hall demo``): gunicorn, one worker.

As Flask-SocketIO's deployment guide has it: Socket.IO needs every request of a client
to reach the same process (sticky sessions), which gunicorn's balancer cannot give, so
a process runs exactly one worker; more processes go behind nginx with a Redis message
queue (docs/deploy.md). The worker class follows the async mode:

* ``threading`` → ``gthread``, one thread per open connection (simple-websocket takes the
  websocket over gunicorn's socket);
* ``gevent`` → gunicorn's ``gevent`` worker (python-engineio drives the websocket with
  simple-websocket on gevent's primitives; gevent-websocket, unmaintained, is not needed).
  gunicorn sets ``TCP_NODELAY`` on its listening socket and accepted sockets inherit it,
  so answers no longer wait 40 ms for Nagle as under ``gevent.pywsgi`` (bench/README.md);
* ``eventlet`` → gunicorn removed its eventlet worker (deprecated in 26, gone in 27), so
  this mode runs on eventlet's own WSGI server through ``socketio.run``, the embedded
  server Flask-SocketIO calls production-ready. Eventlet is deprecated upstream too.

The app is built in the worker, after gevent has patched it, and the scheduler and the
demo's camera simulators start there too: threads do not survive gunicorn's fork.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from hall_ops.config import ServerOptions
from hall_web.logs import logging_config


def gunicorn_options(
    async_mode: str, host: str, port: int, options: ServerOptions
) -> dict[str, Any]:
    """gunicorn's settings for one hall process in ``threading`` or ``gevent`` mode."""
    if async_mode not in ("threading", "gevent"):
        raise ValueError(f"gunicorn serves threading and gevent, not {async_mode!r}")
    settings: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "graceful_timeout": options.graceful_timeout,
        "logconfig_dict": logging_config(options.log_format),
        # X-Forwarded-* are believed by ProxyFix alone, as [server] trusted_proxies says.
        "forwarded_allow_ips": "",
        "proc_name": "hall-ops",
        # systemd manages the process; gunicorn's control socket is one path per user,
        # which a second hall process on the machine would fight over.
        "control_socket_disable": True,
    }
    if async_mode == "threading":
        settings.update(worker_class="gthread", threads=options.connections,
                        # room for idle keep-alive connections beside the busy threads
                        worker_connections=options.connections + 100)
    else:
        settings.update(worker_class="gevent", worker_connections=options.connections)
    return settings


class HallApplication(BaseApplication):
    """gunicorn run from Python, so ``serve`` keeps its flags and config file."""

    def __init__(self, load: Callable[[], Flask], settings: dict[str, Any]) -> None:
        self._load = load
        self._settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._settings.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._load()


def run(
    load: Callable[[], Flask], *, async_mode: str, host: str, port: int, options: ServerOptions
) -> None:
    """Serve the app that ``load`` builds (called once, in the serving process)."""
    if async_mode == "eventlet":
        app = load()
        # a deployment's root has no Socket.IO of its own: any hall's runs the whole app
        hall = app.extensions["hall"] if "hall" in app.extensions else next(
            iter(app.extensions["halls"].values())).extensions["hall"]
        hall.socketio.run(app, host=host, port=port, log_output=False, use_reloader=False)
        return
    HallApplication(load, gunicorn_options(async_mode, host, port, options)).run()
