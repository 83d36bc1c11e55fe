"""The regional overview in headless Chromium against a deployment served over HTTP: a
regional manager logs in at the root, sees both halls, and a ticket taken at one hall shows
up without a reload (the page asks the API again every few seconds)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from hall_ops.clock import system_clock
from hall_ops.staff import accounts
from hall_web.deployment import create_deployment
from tests.support.browser import staff_page
from tests.support.web import CHEAP
from tests.test_deployment import write_deployment

pytestmark = pytest.mark.browser

PASSWORD = "regional secret"
WAIT_MS = 20_000


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[str]:
    """region (no floor) → hall a → hall b, served on loopback; ``boss`` manages region."""
    root = create_deployment(write_deployment(tmp_path, "sqlite:///instance/deployment.db"),
                             always_open=True, staff_policy=CHEAP)
    with root.extensions["deployment"].db.write() as s:
        accounts.add_staff(s, None, "boss", "王处长", system_clock(), CHEAP, password=PASSWORD)
        accounts.grant_role(s, None, "boss", "manager", system_clock(), CHEAP, hall="region")
    server = make_server("127.0.0.1", 0, root, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    root.extensions["deployment"].dispose()


def take(base: str, hall: str) -> None:
    r = requests.post(f"{base}/h/{hall}/api/v1/tickets", json={"service": "social_security"})
    assert r.status_code == 201, r.text


def waiting(hall: str) -> str:
    return f"document.querySelector('#region tr[data-hall=\"{hall}\"] .fig-waiting')?.textContent"


def test_the_overview_shows_every_hall_and_follows_a_ticket(browser, deployment):
    take(deployment, "a")
    take(deployment, "a")
    take(deployment, "b")
    page = staff_page(browser, deployment, "/region", "boss", PASSWORD,
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
