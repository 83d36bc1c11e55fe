"""The admin's hall-floor page in headless Chromium against the real server
(``python -m hall_web serve --demo``): add a window, see it listed and in the history; an
idle kiosk picks up a renamed service by itself."""

from __future__ import annotations

import pytest
import requests

from tests.support.browser import device_page, staff_page
from tests.support.server import running_server
from tests.support.web import live_staff

pytestmark = pytest.mark.browser

WAIT_MS = 15_000


@pytest.fixture
def hall(tmp_path):
    with running_server(tmp_path) as server:
        yield server


def test_admin_adds_a_window_and_sees_it_listed(browser, hall):
    page = staff_page(browser, hall, "/admin/floor", "admin",
                      viewport={"width": 1400, "height": 1000})
    page.wait_for_selector("#windows tbody tr[data-window='24']")
    assert page.inner_text("h1 >> nth=0") == "区域"  # Chinese by default
    page.fill("#add-window input[name=number]", "31")
    page.select_option("#add-window select[name=zone]", "public_affairs")
    page.select_option("#add-window select[name=kind]", "general")
    page.select_option("#add-window select[name=services]", ["notary", "utilities"])
    page.click("#add-window button[type=submit]")
    row = page.wait_for_selector("#windows tbody tr[data-window='31']", timeout=WAIT_MS)
    assert "notary, utilities" in row.inner_text()
    page.wait_for_selector("#changes tbody tr:has-text('window:31')", timeout=WAIT_MS)
    assert "admin" in page.inner_text("#changes tbody tr >> nth=0")
    # live: the public snapshot screens and kiosks read lists the new window
    queue = requests.get(f"{hall}/api/v1/queue", timeout=10).json()
    assert any(w["number"] == 31 for w in queue["windows"])
    assert page.errors == [], page.errors


def test_an_idle_kiosk_shows_a_renamed_service_without_a_restart(browser, hall):
    kiosk = device_page(browser, hall.device_link("/kiosk"),
                        viewport={"width": 1280, "height": 1024})
    kiosk.wait_for_selector("#step-zone:not([hidden])")
    admin = live_staff(hall.url, "admin")
    r = admin.patch(f"{hall}/api/v1/admin/floor/services/notary", json={"name_zh": "公证处"})
    assert r.status_code == 200, r.text
    # the kiosk polls the snapshot every 15 s while idle and loads itself again
    kiosk.wait_for_function(
        "() => document.querySelector('#services [data-service=notary]')"
        ".textContent.includes('公证处')", timeout=40_000)
    assert kiosk.errors == [], kiosk.errors
