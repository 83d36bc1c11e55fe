"""Log lines of one process, as text or JSON (``[server] log_format``), each with its request id.

The request id is taken from ``X-Request-ID`` (nginx sets it to its own ``$request_id``,
docs/deploy.md) or made here, and echoed in the response, so one request can be followed
from nginx's access log through the hall's log to the browser's network panel. Records
logged outside a request carry ``-``. One configuration covers the hall's loggers and
gunicorn's (they propagate to the root handler), so a JSON log has no plain-text lines.
"""

from __future__ import annotations

import logging
import logging.config
import re
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
"""What an incoming id may look like; anything else (a log-injection attempt) is replaced."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(request_id)s %(message)s"


class RequestIdFilter(logging.Filter):
    """Gives every record a ``request_id``: the current request's, or ``-``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def logging_config(log_format: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the process (also gunicorn's ``logconfig_dict``)."""
    formatter: dict[str, Any]
    if log_format == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
        }
    else:
        formatter = {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"hall": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "hall",
                "filters": ["request_id"],
            },
        },
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            # gunicorn's own loggers: no handlers of their own, so they use the root's.
            # Requests are logged by nginx (with the same request id), not once more here.
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            "apscheduler": {"level": "WARNING"},
            "zeep": {"level": "WARNING"},
        },
    }


def configure_logging(log_format: str) -> None:
    logging.config.dictConfig(logging_config(log_format))


def init_request_ids(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _ACCEPTED_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "-")
        return response
