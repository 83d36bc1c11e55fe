"""WSGI entry point for any server, e.g. ``gunicorn -w 1 --threads 100 wsgi:app``.

Set HALL_CONFIG to the config file (default: config.toml beside this file).
With several processes, configure PostgreSQL and a Redis message_queue.
"""

import os
from pathlib import Path

from hall_web.app import create_app
from hall_web.jobs import start_jobs

app = create_app(os.environ.get("HALL_CONFIG", Path(__file__).with_name("config.toml")))
if os.environ.get("HALL_JOBS", "1") == "1":
    start_jobs(app)
