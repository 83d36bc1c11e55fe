"""WSGI entry point for running gunicorn by hand; ``python -m hall_web serve`` does the same.

One worker per process (Socket.IO needs sticky sessions), the worker class by async mode:

    gunicorn -w 1 -k gthread --threads 1000 wsgi:app     # [server] async_mode = "threading"
    gunicorn -w 1 -k gevent --worker-connections 1000 wsgi:app      # async_mode = "gevent"

(gunicorn has no eventlet worker any more: run eventlet mode with ``python -m hall_web
serve``.) Set HALL_CONFIG to the config file (default: config.toml beside this file), or
HALL_DEPLOYMENT to a deployment.toml for every hall of a deployment (the root at ``/``, the
halls at ``/h/<code>/``), and HALL_JOBS=0 for a process that must not run the scheduler.
The demo's credentials are refused unless HALL_DEMO=1. With several processes,
configure PostgreSQL and a Redis message_queue (docs/deploy.md).
"""

import os
from pathlib import Path

from hall_ops.config import load_config
from hall_ops.install import refuse_demo
from hall_web.logs import configure_logging

DEMO = os.environ.get("HALL_DEMO") == "1"
JOBS = os.environ.get("HALL_JOBS", "1") == "1"

if os.environ.get("HALL_DEPLOYMENT"):
    from hall_ops.region.deployment import Deployment
    from hall_web.deployment import create_deployment
    from hall_web.jobs import start_deployment_jobs

    deployment = Deployment(os.environ["HALL_DEPLOYMENT"])
    configure_logging(deployment.file.server.log_format)
    if not DEMO and deployment.file.deployment.demo:
        raise SystemExit("hall-ops: the demo deployment is refused unless HALL_DEMO=1")
    app = create_deployment(deployment, always_open=DEMO)
    if not DEMO:
        for code, hall_app in app.extensions["halls"].items():
            refuse_demo(deployment.config(code), hall_app.extensions["hall"].db)
    if JOBS:
        start_deployment_jobs(app)
else:
    from hall_web.app import create_app
    from hall_web.jobs import start_jobs

    hall = load_config(os.environ.get("HALL_CONFIG", Path(__file__).with_name("config.toml")))
    configure_logging(hall.server.log_format)
    if not DEMO:
        refuse_demo(hall)
    app = create_app(hall)
    if not DEMO:
        refuse_demo(hall, app.extensions["hall"].db)
    if JOBS:
        start_jobs(app)
