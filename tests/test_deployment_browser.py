"""A deployment served for real (``serve --deployment``, gunicorn) in headless Chromium: the
kiosk of hall b takes a ticket under ``/h/b/``, a clerk of hall b calls it, and hall b's
screen shows the call while hall a's screen, served by the same process, does not."""

from __future__ import annotations

import pytest
import requests

from tests.support.browser import device_page
from tests.support.server import HallServer
from tests.support.web import live_window
from tests.test_deployment import write_deployment

pytestmark = pytest.mark.browser

WAIT_MS = 20_000


@pytest.fixture
def served(tmp_path):
    path = write_deployment(tmp_path, "sqlite:///instance/deployment.db")
    with HallServer(tmp_path, deployment=path, database_url=f"sqlite:///{tmp_path / 'd.db'}",
                    timeout=120) as server:
        yield server


def test_the_kiosk_of_hall_b_issues_and_its_screen_shows_the_call(browser, served):
    assert [h["code"] for h in requests.get(f"{served}/api/v1/halls?floor=true").json()[
        "halls"]] == ["a", "b"]
    screen_b = device_page(browser, served.device_link("/h/b/screen"))
    screen_a = device_page(browser, served.device_link("/h/a/screen"))
    for screen in (screen_a, screen_b):
        screen.wait_for_selector("#waiting", state="attached", timeout=WAIT_MS)
    kiosk = device_page(browser, served.device_link("/h/b/kiosk"),
                        viewport={"width": 1080, "height": 1920})
    assert kiosk.url.startswith(f"{served}/h/b/kiosk")
    kiosk.click("#step-zone [data-zone=public_affairs]")
    kiosk.click("#services [data-service=social_security]")
    kiosk.wait_for_selector("#step-ticket:not([hidden])", timeout=WAIT_MS)
    number = kiosk.inner_text("#ticket-number")
    assert number == "F001"
    queue = requests.get(f"{served}/h/b/api/v1/queue").json()
    assert {s["code"]: s["waiting"] for s in queue["services"]}["social_security"] == 1
    clerk = live_window(f"{served}/h/b", 1, "c01")
    call = clerk.post(f"{served}/h/b/api/v1/windows/1/call-next").json()["call"]
    assert call["ticket"] == number
    screen_b.wait_for_function(
        "(t) => [...document.querySelectorAll('#current .num')].some(e => e.textContent === t)",
        arg=number, timeout=WAIT_MS)
    screen_a.wait_for_timeout(1000)
    assert screen_a.evaluate(
        "[...document.querySelectorAll('#current .num')].map(e => e.textContent)") == ["暂无叫号"]
    for page in (kiosk, screen_a, screen_b):
        assert page.errors == []
