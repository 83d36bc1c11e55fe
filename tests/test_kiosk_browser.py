"""The kiosk and the phone in headless Chromium against the real server (issue 10): service
buttons with waiting count and estimate, a ticket by resident ID typed as a card reader
types it (18 characters and Enter) giving a 1950-born citizen the green channel, and a
remote ticket taken on the phone page then checked in at the kiosk by its QR code."""

from __future__ import annotations

import pytest
import requests

from tests.support.browser import clerk_console, device_page
from tests.support.browser import new_page as _page
from tests.support.server import running_server
from tests.test_kiosk_tickets import ELDER

pytestmark = pytest.mark.browser

WAIT_MS = 15_000


@pytest.fixture
def hall(tmp_path):
    with running_server(tmp_path) as server:
        yield server


def test_kiosk_counts_and_a_ticket_by_resident_id_with_the_green_channel(browser, hall):
    for _ in range(2):
        requests.post(f"{hall}/api/v1/tickets", json={"service": "enterprise"})
    kiosk = device_page(browser, hall.device_link("/kiosk"),
                        viewport={"width": 1080, "height": 1920})
    kiosk.click("#step-zone [data-zone=front_intake]")
    info = "#services [data-service=enterprise] [data-queue-info]"
    kiosk.wait_for_function("s => document.querySelector(s).textContent.includes('等候 2 人')",
                            arg=info, timeout=WAIT_MS)
    # the ID box is focused on the service step: the reader types into it and sends Enter
    assert kiosk.evaluate("() => document.activeElement.id") == "resident-id"
    box = kiosk.eval_on_selector("#resident-id", "e => e.getBoundingClientRect().toJSON()")
    assert box["height"] >= 44, box
    button = kiosk.eval_on_selector("#services [data-service=enterprise]",
                                    "e => e.getBoundingClientRect().toJSON()")
    assert button["height"] >= 44 and button["width"] >= 44, button
    kiosk.keyboard.type(ELDER)
    kiosk.keyboard.press("Enter")
    kiosk.wait_for_selector("#id-read:not([hidden])")
    masked = ELDER[0] + "*" * 16 + ELDER[-1]
    assert masked in kiosk.inner_text("#id-read") and ELDER not in kiosk.content()
    kiosk.click("#services [data-service=enterprise]")
    kiosk.wait_for_selector("#step-ticket:not([hidden])")
    assert "绿色通道" in kiosk.inner_text("#ticket-priority")
    assert masked in kiosk.inner_text("#ticket-priority")
    number = kiosk.inner_text("#ticket-number")
    snapshot = requests.get(f"{hall}/api/v1/queue").json()
    assert {s["code"]: s["waiting"] for s in snapshot["services"]}["enterprise"] == 3
    print(f"kiosk: ID ticket {number}; ID box {box['height']:.0f} px, "
          f"service button {button['height']:.0f} px high")
    # a wrong check digit is refused in Chinese, and nothing is issued
    kiosk.click("#again")
    kiosk.click("#step-zone [data-zone=front_intake]")
    kiosk.fill("#resident-id", ELDER[:17] + ("0" if ELDER[17] != "0" else "1"))
    kiosk.click("#services [data-service=enterprise]")
    kiosk.wait_for_selector("#error:not([hidden])")
    assert "身份证" in kiosk.inner_text("#error")
    assert kiosk.errors == [], kiosk.errors

    # served first (green channel), the clerk's intake form has the ID filled in
    clerk = clerk_console(browser, hall, 4, "c04", viewport={"width": 1280, "height": 1000})
    clerk.click("button[data-action=call-next]")
    clerk.wait_for_function("n => document.querySelector('#current').textContent === n",
                            arg=number, timeout=WAIT_MS)
    clerk.click("button[data-action=start]")
    clerk.wait_for_function(
        "() => document.querySelector('#state').classList.contains('state-serving')")
    clerk.goto(f"{hall}/intake?window=4")
    clerk.wait_for_function("id => document.querySelector('#id-number').value === id",
                            arg=ELDER, timeout=WAIT_MS)
    assert clerk.errors == [], clerk.errors


def test_a_remote_ticket_from_the_phone_checked_in_at_the_kiosk(browser, hall):
    phone = _page(browser, viewport={"width": 360, "height": 740})
    phone.goto(f"{hall}/guide/enterprise")
    take = phone.eval_on_selector("#take-remote", "e => e.getBoundingClientRect().toJSON()")
    assert take["height"] >= 44, take
    phone.click("#take-remote")
    phone.wait_for_url("**/t/**")
    phone.wait_for_selector("#remote-note:not([hidden])")
    assert phone.inner_text("#status") == "待到厅签到"
    assert "签到" in phone.inner_text("#remote-note")
    url = phone.url
    token = url.rstrip("/").rsplit("/", 1)[-1]
    ticket = requests.get(f"{hall}/api/v1/tickets/{token}").json()
    assert ticket["status"] == "remote"
    snapshot = requests.get(f"{hall}/api/v1/queue").json()
    assert {s["code"]: s["waiting"] for s in snapshot["services"]}["enterprise"] == 0

    kiosk = device_page(browser, hall.device_link("/kiosk"),
                        viewport={"width": 1080, "height": 1920})
    kiosk.click("#to-remote")
    assert kiosk.evaluate("() => document.activeElement.id") == "remote-token"
    kiosk.keyboard.type(url)  # the scanner types the QR code's link, then Enter
    kiosk.keyboard.press("Enter")
    kiosk.wait_for_selector("#step-ticket:not([hidden])")
    assert kiosk.inner_text("#ticket-number") == ticket["number"]
    assert requests.get(f"{hall}/api/v1/tickets/{token}").json()["status"] == "waiting"
    phone.wait_for_selector("#remote-note", state="hidden", timeout=WAIT_MS)
    phone.wait_for_selector("#facts:not([hidden])", timeout=WAIT_MS)
    for page in (phone, kiosk):
        assert page.errors == [], page.errors
