"""End to end in headless Chromium against the real server (``python -m hall_web serve --demo``):
kiosk → clerk → call screen, the citizen's phone, appointment check-in, and a screen riding out a
server restart."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.support.browser import clerk_console, device_page
from tests.support.browser import new_page as _page
from tests.support.server import ROOT, free_port, running_server
from tests.support.web import live_staff, live_window

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
WAIT_MS = 15_000


@pytest.fixture
def hall(tmp_path):
    with running_server(tmp_path) as server:
        yield server


def _shown_calls(screen) -> list[str]:
    return screen.evaluate(
        "[document.querySelector('#current .num').textContent,"
        " ...[...document.querySelectorAll('#recent td.ticket')].map(td => td.textContent)]"
    )


def test_ticket_taken_at_kiosk_called_by_clerk_appears_on_open_screen(browser, hall):
    screen = device_page(browser, hall.device_link("/screen?zone=front_intake"),
                         viewport={"width": 1600, "height": 900})
    assert screen.url == f"{hall}/screen?zone=front_intake"  # the token left the address
    screen.wait_for_function("() => document.querySelector('#waiting').rows.length === 5")
    screen.click("#sound")  # the one gesture browsers want before a page may make sound
    assert screen.is_hidden("#sound")
    screen.evaluate("window.stayedOpen = true")

    kiosk = device_page(browser, hall.device_link("/kiosk"))
    kiosk.click("button[data-zone=front_intake]")
    assert kiosk.is_hidden("button[data-service=social_security]")  # another zone's service
    kiosk.click("label:has(input[value=elderly])")
    kiosk.click("button[data-service=enterprise]")
    kiosk.wait_for_selector("#step-ticket:not([hidden])")
    assert kiosk.inner_text("#ticket-number") == "B001"
    assert kiosk.inner_text("#ahead") == "0 人"
    qr = kiosk.get_attribute("#qr", "src")
    assert qr.startswith("/qr/") and qr.endswith(".svg")
    # it really loaded
    kiosk.wait_for_function("() => document.querySelector('#qr').naturalWidth > 0")
    token = qr.removeprefix("/qr/").removesuffix(".svg")
    assert requests.get(f"{hall}/api/v1/tickets/{token}").json()["priority"] == "elderly"
    # The waiting count on the open screen follows the queue without a reload.
    screen.wait_for_function(
        "() => [...document.querySelectorAll('#waiting tr')]"
        ".some(r => r.textContent.includes('企业登记')"
        " && r.querySelector('.count').textContent === '1')", timeout=WAIT_MS)

    clerk = clerk_console(browser, hall, 4, "c01")
    assert clerk.inner_text("#next") == "B001"
    clerk.click("button[data-action=call-next]")
    clerk.wait_for_function("() => document.querySelector('#current').textContent === 'B001'")
    assert clerk.is_disabled("button[data-action=call-next]")

    # The screen was open all along: the call arrives over Socket.IO, no reload.
    screen.wait_for_function(
        "() => document.querySelector('#current .num').textContent === 'B001'", timeout=WAIT_MS)
    assert screen.inner_text("#current .win") == "4 号窗口"
    assert screen.inner_text("#sentence") == "请 B001 号到 4 号窗口"
    assert screen.evaluate("window.stayedOpen") is True

    # Chime, then the call spoken: by the browser's Chinese voice if it has one, else our clips.
    screen.wait_for_function(
        "() => window.HallAnnounce.played.some(p => p === 'chuangkou' || p.startsWith('speech:'))",
        timeout=WAIT_MS)
    played = screen.evaluate("window.HallAnnounce.played")
    if any(p.startswith("speech:") for p in played):
        assert played[0] == "chime" and "B 零 零 一" in played[1]
    else:
        assert played == ["chime", "qing", "lB", "d0", "d0", "d1", "hao", "dao", "d4", "chuangkou"]

    # 过号 waits for the recalls the hall asks for, and says how many remain.
    assert clerk.is_disabled("button[data-action=no-show]")
    assert clerk.inner_text("button[data-action=no-show]") == "过号 · 还需重呼 2 次"

    ARTIFACTS.mkdir(exist_ok=True)
    screen.screenshot(path=str(ARTIFACTS / "screen.png"))
    for page in (screen, kiosk, clerk):
        assert page.errors == [], page.errors


def test_ticket_status_page_follows_the_call_and_can_leave_the_queue(browser, hall):
    first = requests.post(f"{hall}/api/v1/tickets", json={"service": "real_estate"}).json()
    second = requests.post(f"{hall}/api/v1/tickets", json={"service": "real_estate"}).json()
    phone = _page(browser, viewport={"width": 390, "height": 800})
    phone.goto(first["status_url"] + "?lang=en")
    assert phone.inner_text("#status") == "waiting"
    assert phone.inner_text("#wait") == "no window open yet"

    session = live_window(hall.url, 8, "c02")
    assert session.post(f"{hall}/api/v1/windows/8/call-next").json()["call"]["ticket"] == "C001"
    phone.wait_for_function("() => !document.querySelector('#go').hidden", timeout=WAIT_MS)
    assert phone.inner_text("#go") == "Please go to window 8"
    assert phone.is_hidden("#cancel")

    other = _page(browser, viewport={"width": 390, "height": 800})
    other.goto(second["status_url"])
    other.wait_for_function("() => document.querySelector('#ahead').textContent === '0 人'",
                            timeout=WAIT_MS)
    other.on("dialog", lambda dialog: dialog.accept())
    other.click("#cancel")
    other.wait_for_function("() => document.querySelector('#status').textContent === '已取消'",
                            timeout=WAIT_MS)
    assert requests.get(f"{hall}/api/v1/tickets/{second['token']}").json()["status"] == "cancelled"
    for page in (phone, other):
        assert page.errors == [], page.errors


def test_appointment_check_in_on_the_kiosk_keypad(browser, hall):
    local_now = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)
    booked = requests.post(f"{hall}/api/v1/appointments", json={
        "service": "enterprise", "name": "王芳",
        "slot_start": (local_now + dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"),
    })
    assert booked.status_code == 201, booked.text
    code = booked.json()["code"]
    wrong = "000000" if code != "000000" else "111111"

    kiosk = device_page(browser, hall.device_link("/kiosk"))
    kiosk.click("#to-checkin")
    for digit in wrong:
        kiosk.click(f"[data-key='{digit}']")
    kiosk.click("#checkin button[type=submit]")
    kiosk.wait_for_selector("#error:not([hidden])")
    assert kiosk.inner_text("#error") == "预约码无效，请核对后重新输入"
    # An English kiosk in a browser set to Chinese: the error follows the page, not the browser.
    english = device_page(browser, hall.device_link("/kiosk"), locale="zh-CN")
    english.goto(f"{hall}/kiosk?lang=en")
    english.click("#to-checkin")
    for digit in wrong:
        english.click(f"[data-key='{digit}']")
    english.click("#checkin button[type=submit]")
    english.wait_for_selector("#error:not([hidden])")
    assert english.inner_text("#error") == f"no appointment with code '{wrong}'"
    assert english.errors == []

    kiosk.click("[data-key=clear]")
    for digit in code:
        kiosk.click(f"[data-key='{digit}']")
    assert kiosk.input_value("#code") == code
    kiosk.click("#checkin button[type=submit]")
    kiosk.wait_for_selector("#step-ticket:not([hidden])")
    number = kiosk.inner_text("#ticket-number")
    assert number.startswith("B")
    assert "王芳" not in kiosk.content()  # screens and tickets show numbers, never names
    status = requests.get(f"{hall}/api/v1/queue").json()
    assert [s["waiting"] for s in status["services"] if s["code"] == "enterprise"] == [1]
    assert kiosk.errors == []


def test_screen_rides_out_a_server_restart(browser, tmp_path):
    """Disconnected → badge; reconnected → join again, snapshot drawn, no call shown twice."""
    port = free_port()
    screen = _page(browser, viewport={"width": 1600, "height": 900})
    with running_server(tmp_path, port=port) as base:
        assert requests.post(f"{base}/api/v1/tickets", json={"service": "enterprise"}).ok
        assert requests.post(f"{base}/api/v1/tickets", json={"service": "enterprise"}).ok
        session = live_window(base.url, 5, "c01")
        assert session.post(f"{base}/api/v1/windows/5/call-next").json()["call"]
        screen.goto(base.device_link("/screen"))
        screen.wait_for_function(
            "() => document.querySelector('#current .num').textContent === 'B001'", timeout=WAIT_MS)
        assert screen.is_hidden("#offline")
    screen.wait_for_selector("#offline:not([hidden])", timeout=WAIT_MS)

    with running_server(tmp_path, port=port) as base:
        # The clerk's session and the screen's device cookie survive the restart (the server
        # keeps its secret key, the database its staff and devices).
        assert session.post(f"{base}/api/v1/windows/5/no-show").status_code == 409  # recall first
        assert session.post(f"{base}/api/v1/windows/5/recall").ok
        screen.wait_for_selector("#offline", state="hidden", timeout=WAIT_MS)
        screen.wait_for_function(
            "() => document.querySelector('#current .recall') !== null", timeout=WAIT_MS)
        time.sleep(1)
        # The recall and the first call are two calls (two seqs) of one ticket: it is shown
        # once, large, with its recall mark, not as a second row.
        assert _shown_calls(screen) == ["B001"]
        assert screen.errors == []


def test_result_collected_at_kiosk_and_handed_over_at_delivery_window(browser, tmp_path):
    """An approved case: the citizen checks in with the case number, window 14 hands it over."""
    from hall_ops.cases.intake import get_case, set_item_status
    from hall_ops.cases.notices import notify_ready
    from hall_ops.config import load_config
    from hall_ops.db import Database
    from tests.conftest import OPEN_NOW
    from tests.test_intake import flat_case

    with running_server(tmp_path) as hall:
        db = Database(f"sqlite:///{tmp_path / 'hall.db'}")
        number = flat_case(db, load_config(ROOT / "config.toml"))
        with db.write() as s:
            for item in get_case(s, number).items:
                set_item_status(s, number, item.item_code, "in_review", "审批员", now=OPEN_NOW)
                set_item_status(s, number, item.item_code, "approved", "审批员", now=OPEN_NOW)
        notify_ready(db, {}, OPEN_NOW)  # ready; no channel configured, nobody told
        db.dispose()

        kiosk = device_page(browser, hall.device_link("/kiosk"))
        kiosk.click("#to-collect")
        kiosk.fill("#case-number", number)
        kiosk.fill("#phone-last4", "8000")
        kiosk.click("#collect button[type=submit]")
        kiosk.wait_for_selector("#step-ticket:not([hidden])")
        assert kiosk.inner_text("#ticket-number") == "E001"

        clerk = clerk_console(browser, hall, 14, "c14")
        clerk.click("button[data-action=call-next]")
        clerk.wait_for_function("() => document.querySelector('#current').textContent === 'E001'")
        clerk.click("button[data-action=start]")
        clerk.wait_for_function(
            "() => !document.querySelector('button[data-action=hand-over]').disabled")
        # The case was accepted with gaps still outstanding: the clerk is told which, and hands
        # it over only by giving a reason (kept in the items' history).
        prompts: list[str] = []
        clerk.on("dialog", lambda d: (prompts.append(d.message), d.accept("承诺书已签，先行出件")))
        with clerk.expect_response(
                lambda r: r.url.endswith("/hand-over") and r.status == 200) as handed:
            clerk.click("button[data-action=hand-over]")
        assert handed.value.status == 200 and "仍有容缺材料未补齐" in prompts[0]
        clerk.wait_for_function(
            "() => document.querySelector('#current').textContent === 'E001'"
            " && document.querySelector('#state').className.includes('serving')"
        )
        token = live_staff(hall.url, "manager").get(f"{hall}/api/v1/windows/14").json()[
            "ticket"]["token"]
        assert requests.get(f"{hall}/api/v1/tickets/{token}").json()["case"]["handed_over"]
        phone = _page(browser)
        phone.goto(f"{hall}/t/{token}")
        assert "结果已领取" in phone.inner_text("#case")
        assert kiosk.errors == [] and clerk.errors == []
