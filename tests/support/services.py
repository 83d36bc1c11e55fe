"""What a test does when a service it needs (PostgreSQL, Redis, Chromium) is missing."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def service_missing(reason: str) -> NoReturn:
    """Skip on a developer's machine; fail under ``CI=true``, where ``./hall test`` must
    have every service, so a green run never hides tests that did not run."""
    if on_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)
