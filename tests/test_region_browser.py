"""The regional overview in headless Chromium against a deployment served for real
(``serve --deployment --demo``, gunicorn): the demo's regional manager logs in at the root,
sees both halls, and a ticket taken at one hall shows up without a reload (the page asks
the API again every few seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from hall_ops.staff.demo import DEMO_PASSWORD
from tests.support.browser import staff_page
from tests.support.server import HallServer
from tests.test_deployment import write_deployment

pytestmark = pytest.mark.browser

WAIT_MS = 20_000


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[HallServer]:
    """region (no floor) → hall a → hall b, served for real (``serve --deployment --demo``,
    which makes the demo's regional manager)."""
    path = write_deployment(tmp_path, "sqlite:///instance/deployment.db")
    with HallServer(tmp_path, deployment=path, database_url=f"sqlite:///{tmp_path / 'd.db'}",
                    timeout=120) as server:
        yield server


def take(base: HallServer, hall: str) -> None:
    r = requests.post(f"{base}/h/{hall}/api/v1/tickets", json={"service": "social_security"})
    assert r.status_code == 201, r.text


def waiting(hall: str) -> str:
    return f"document.querySelector('#region tr[data-hall=\"{hall}\"] .fig-waiting')?.textContent"


def test_the_overview_shows_every_hall_and_follows_a_ticket(browser, deployment):
    take(deployment, "a")
    take(deployment, "a")
    take(deployment, "b")
    assert "region-manager / hall-demo" in deployment.log()
    page = staff_page(browser, deployment, "/region", "region-manager", DEMO_PASSWORD,
                      viewport={"width": 1400, "height": 900})
    page.wait_for_function(f"() => {waiting('a')} === '2' && {waiting('b')} === '1'")
    assert page.inner_text(".page-name") == "区域总览"
    # a has b below it: its total first, then its own hall with the drill-down link
    assert page.inner_text("#region tr[data-hall='a:total'] .fig-waiting") == "3"
    link = page.locator("#region tr[data-hall='a'] a")
    assert link.get_attribute("href") == "/h/a/manager/dashboard"
    assert page.inner_text("#region tr[data-hall='region'] .fig-waiting") == "3"
    assert page.inner_text("#kpi-halls") == "2"

    take(deployment, "b")  # no reload: the next ask brings it
    page.wait_for_function(f"() => {waiting('b')} === '2'", timeout=WAIT_MS)
    assert page.inner_text("#region tr[data-hall='region'] .fig-waiting") == "4"
    assert page.errors == []
