"""What a request costs that is not its work: gunicorn's access line is not built when
nothing would log it (nginx logs requests), and is when a site logs them."""

from __future__ import annotations

import logging

from gunicorn.config import Config

from hall_ops.config import ServerOptions
from hall_web.server import HallLogger, gunicorn_options


def _logger(**overrides: object) -> HallLogger:
    cfg = Config()
    for key, value in (gunicorn_options("threading", "127.0.0.1", 5000, ServerOptions())
                       | overrides).items():
        cfg.set(key, value)
    assert cfg.logger_class is HallLogger
    return HallLogger(cfg)


def test_no_access_line_is_built_while_the_access_log_is_off():
    assert _logger().access_log_enabled is False


def test_a_site_that_logs_requests_still_gets_them():
    config = gunicorn_options("threading", "127.0.0.1", 5000, ServerOptions())["logconfig_dict"]
    config["loggers"]["gunicorn.access"]["level"] = "INFO"
    try:
        assert _logger(logconfig_dict=config).access_log_enabled is True
    finally:
        logging.getLogger("gunicorn.access").setLevel(logging.WARNING)
