"""``python bench/_embedded_server.py serve …``: ``hall_web serve`` on the server it had
before gunicorn, for the benchmarks' comparison only.

That is Flask-SocketIO's own ``socketio.run``: Werkzeug's development server in
threading mode, ``gevent.pywsgi`` in gevent mode (after ``monkey.patch_all()``, as
``serve`` did), eventlet's WSGI server in eventlet mode (which ``serve`` still uses).
Everything else — flags, config, app, demo logins — is ``hall_web serve`` itself; only
``hall_web.server.run`` is replaced. Started through ``tests/support/server.HallServer``
(``entry=``), like every other server of the tests and benchmarks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

# Patch first, as ``serve`` does (the mode comes from --async-mode; the benchmarks pass it).
_MODE = sys.argv[sys.argv.index("--async-mode") + 1] if "--async-mode" in sys.argv else ""
if _MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
elif _MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hall_web import __main__ as cli  # noqa: E402 - after the patching
from hall_web import server  # noqa: E402

if TYPE_CHECKING:
    from flask import Flask

    from hall_ops.config import ServerOptions


def run_embedded(load: Callable[[], Flask], *, async_mode: str, host: str, port: int,
                 options: ServerOptions) -> None:
    """The ``serve`` of before the production server (``allow_unsafe_werkzeug``: it is
    the development server, here on purpose)."""
    app = load()
    app.extensions["hall"].socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True,
                                        log_output=False, use_reloader=False)


if __name__ == "__main__":
    server.run = run_embedded
    cli.main()
