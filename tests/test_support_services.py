"""A missing service skips a test on a developer's machine and fails it under CI=true."""

from __future__ import annotations

import pytest

from tests.support.services import service_missing


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_missing_service_fails_on_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="CI=true and Redis is down"):
        service_missing("Redis is down")


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_missing_service_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match="^Redis is down$"):
        service_missing("Redis is down")
