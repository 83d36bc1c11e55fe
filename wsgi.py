"""WSGI entry point for any server, e.g. ``gunicorn -w 1 --threads 100 wsgi:app``.

Set HALL_CONFIG to the config file (default: config.toml beside this file). The demo
hall's credentials are refused unless HALL_DEMO=1. With several processes, configure
PostgreSQL and a Redis message_queue.
"""

import os
from pathlib import Path

from hall_ops.config import load_config
from hall_ops.install import refuse_demo
from hall_web.app import create_app
from hall_web.jobs import start_jobs

config = load_config(os.environ.get("HALL_CONFIG", Path(__file__).with_name("config.toml")))
if os.environ.get("HALL_DEMO") != "1":
    refuse_demo(config)
app = create_app(config)
if os.environ.get("HALL_DEMO") != "1":
    refuse_demo(config, app.extensions["hall"].db)
if os.environ.get("HALL_JOBS", "1") == "1":
    start_jobs(app)
