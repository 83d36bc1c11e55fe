"""End to end in headless Chromium: kiosk → clerk → call screen, on the real server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.server import ROOT, running_server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (Debian package 'chromium'); ./hall test installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def hall(tmp_path):
    with running_server(tmp_path) as base:
        yield base


def test_ticket_taken_at_kiosk_called_by_clerk_appears_on_open_screen(browser, hall):
    screen = browser.new_page(viewport={"width": 1600, "height": 900})
    screen.goto(f"{hall}/screen?zone=front_intake")
    screen.wait_for_function("document.querySelector('#waiting').rows.length > 0")

    kiosk = browser.new_page()
    kiosk.goto(f"{hall}/kiosk")
    kiosk.click("button[data-zone=front_intake]")
    kiosk.click("button[data-service=enterprise]")
    kiosk.wait_for_selector("#step-ticket:not([hidden])")
    number = kiosk.inner_text("#ticket-number")
    assert number == "B001"
    assert kiosk.inner_text("#ahead").startswith("0")
    assert kiosk.get_attribute("#qr", "src").endswith(".svg")

    clerk = browser.new_page()
    clerk.goto(f"{hall}/clerk")
    clerk.select_option("#window", "4")
    clerk.wait_for_selector("#clerk option[value=c01]", state="attached")
    clerk.select_option("#clerk", "c01")
    clerk.fill("#pin", "1234")
    clerk.click("#login button[type=submit]")
    clerk.wait_for_selector("#console:not([hidden])")
    clerk.click("button[data-action=call-next]")
    clerk.wait_for_function("document.querySelector('#current').textContent === 'B001'")

    # The screen was open all along: the call arrives over Socket.IO, no reload.
    screen.wait_for_function(
        "document.querySelector('#current .num') && "
        "document.querySelector('#current .num').textContent === 'B001'",
        timeout=10_000,
    )
    assert "4" in screen.inner_text("#current .win")
    ARTIFACTS.mkdir(exist_ok=True)
    screen.screenshot(path=str(ARTIFACTS / "screen.png"))


def test_ticket_status_page_follows_the_call(browser, hall):
    import requests

    ticket = requests.post(f"{hall}/api/v1/tickets", json={"service": "real_estate"}).json()
    phone = browser.new_page(viewport={"width": 390, "height": 800})
    phone.goto(ticket["status_url"] + "?lang=en")
    phone.wait_for_function("document.querySelector('#status').textContent === 'waiting'")

    session = requests.Session()
    assert session.post(f"{hall}/api/v1/windows/8/login",
                        json={"clerk": "c02", "pin": "1234"}).ok
    assert session.post(f"{hall}/api/v1/windows/8/call-next").json()["call"]["ticket"] == "C001"
    phone.wait_for_function("!document.querySelector('#go').hidden", timeout=10_000)
    assert "window 8" in phone.inner_text("#go")
