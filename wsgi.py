"""WSGI entry point for running gunicorn by hand; ``python -m hall_web serve`` does the same.

One worker per process (Socket.IO needs sticky sessions), the worker class by async mode:

    gunicorn -w 1 -k gthread --threads 1000 wsgi:app     # [server] async_mode = "threading"
    gunicorn -w 1 -k gevent --worker-connections 1000 wsgi:app      # async_mode = "gevent"

(gunicorn has no eventlet worker any more: run eventlet mode with ``python -m hall_web
serve``.) Set HALL_CONFIG to the config file (default: config.toml beside this file) and
HALL_JOBS=0 for a process that must not run the scheduler. The demo hall's
credentials are refused unless HALL_DEMO=1. With several processes,
configure PostgreSQL and a Redis message_queue (docs/deploy.md).
"""

import os
from pathlib import Path

from hall_ops.config import load_config
from hall_ops.install import refuse_demo
from hall_web.app import create_app
from hall_web.jobs import start_jobs
from hall_web.logs import configure_logging

hall = load_config(os.environ.get("HALL_CONFIG", Path(__file__).with_name("config.toml")))
configure_logging(hall.server.log_format)
if os.environ.get("HALL_DEMO") != "1":
    refuse_demo(hall)
app = create_app(hall)
if os.environ.get("HALL_DEMO") != "1":
    refuse_demo(hall, app.extensions["hall"].db)
if os.environ.get("HALL_JOBS", "1") == "1":
    start_jobs(app)
