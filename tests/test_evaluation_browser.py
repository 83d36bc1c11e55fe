"""好差评 in headless Chromium against the real server: a citizen rates the finished service on
the phone (five levels, reasons for a bad one, then 追评), the clerk appeals it from the
window, and the manager decides the appeal and works the rectification on the rectification
page until it is closed; a citizen rates at the kiosk by scanning the ticket."""

from __future__ import annotations

import pytest
import requests

from tests.support.browser import clerk_console, device_page, new_page, staff_page
from tests.support.server import ROOT, running_server
from tests.support.web import live_staff, live_window

pytestmark = pytest.mark.browser

WAIT_MS = 15_000
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def hall(tmp_path):
    with running_server(tmp_path) as server:
        yield server


def test_rating_on_the_phone_then_the_rectification_page(browser, hall):
    ticket = requests.post(f"{hall}/api/v1/tickets", json={"service": "enterprise"}).json()
    phone = new_page(browser, viewport={"width": 390, "height": 800})
    phone.goto(ticket["status_url"])
    assert phone.is_hidden("#rating-box")  # nothing to rate before the service

    clerk = live_window(hall.url, 4, "c04")
    for action in ("call-next", "start", "finish"):
        assert clerk.post(f"{hall}/api/v1/windows/4/{action}").status_code == 200
    phone.wait_for_selector("#rating-box:not([hidden])", timeout=WAIT_MS)
    assert phone.is_hidden("#rating .tags")
    phone.click("#rating label.level-2")  # 不满意
    phone.wait_for_selector("#rating .tags:not([hidden])")
    phone.click("#rating button[type=submit]")  # no reason chosen: the server says so
    phone.wait_for_function("() => !document.getElementById('error').hidden")
    assert phone.inner_text("#error") == "请至少选择一项原因"
    phone.click("#rating label:has(input[value=long_wait])")
    phone.fill("#rating textarea[name=comment]", "等了四十分钟")
    phone.click("#rating button[type=submit]")
    phone.wait_for_selector("#thanks:not([hidden])")
    assert phone.is_hidden("#rating-box")
    phone.fill("#follow-up textarea", "窗口人员后来主动道歉")
    phone.click("#follow-up button[type=submit]")
    phone.wait_for_selector("#follow-up", state="hidden")
    rating = requests.get(f"{hall}/api/v1/tickets/{ticket['token']}").json()["rating"]
    assert (rating["level_code"], rating["tags"], rating["comment"], rating["follow_up"]) == (
        "dissatisfied", ["long_wait"], "等了四十分钟", "窗口人员后来主动道歉")

    # the clerk appeals it from the window's page of bad ratings
    console = clerk_console(browser, hall, 4, "c04")
    console.goto(f"{hall}/appeals?window=4")
    console.wait_for_selector("#list li")
    assert "不满意" in console.inner_text("#list li") and "未申诉" in console.inner_text("#list li")
    console.fill("#list li textarea[name=reason]", "当时系统排队叫号故障二十分钟")
    console.fill("#list li textarea[name=evidence]", "运维工单 2026-11-30-03")
    console.click("#list li button")
    console.wait_for_function(
        "() => document.querySelector('#list li').textContent.includes('申诉待审核')")

    # the manager (the hall's only manager owns it) follows it on the rectification page
    page = staff_page(browser, hall, "/manager/rectifications", "manager",
                      viewport={"width": 1400, "height": 1000})
    page.wait_for_selector("#rect-list tbody tr")
    assert "不满意" in page.inner_text("#rect-list tbody tr")
    assert "排队等候时间长" in page.inner_text("#rect-list tbody tr")
    page.click("#rect-list tbody tr")
    page.wait_for_selector("#detail:not([hidden])")
    assert "运维工单 2026-11-30-03" in page.inner_text("#detail .appeal")
    page.fill("#detail .appeal textarea", "工单属实")
    page.click("#detail .appeal button.primary")
    page.wait_for_function(
        "() => document.querySelector('#detail').textContent.includes('不计入工作人员考核')")
    page.fill("#detail .step-rectify textarea", "高峰期增开两个窗口")
    page.click("#detail .step-rectify button")
    page.wait_for_function("() => !document.querySelector('#detail .step-rectify textarea')")
    page.click("#detail .step-call-back label:has(input[value=yes])")
    page.fill("#detail .step-call-back textarea", "已电话回访，群众表示理解")
    page.click("#detail .step-call-back button")
    page.wait_for_function("() => !document.querySelector('#detail .step-call-back textarea')")
    page.fill("#detail .step-answer textarea", "已增开窗口，感谢监督")
    page.click("#detail .step-answer button")
    page.wait_for_function(
        "() => document.querySelector('#detail').textContent.includes('按期办结')")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "rectification.png"))

    manager = live_staff(hall.url, "manager")
    (closed,) = manager.get(f"{hall}/api/v1/rectifications?status=closed").json()["rectifications"]
    assert (closed["measures"], closed["call_back"]["reached"], closed["answer"]) == (
        "高峰期增开两个窗口", True, "已增开窗口，感谢监督")
    detail = manager.get(f"{hall}/api/v1/rectifications/{closed['id']}").json()
    assert [(e["kind"], e["actor"]) for e in detail["events"]] == [
        ("opened", None), ("appealed", "c04"), ("appeal_accepted", "manager"),
        ("rectified", "manager"), ("called_back", "manager"), ("answered", "manager"),
        ("closed", None)]
    for p in (phone, console, page):
        assert p.errors == [], p.errors


def test_rating_at_the_kiosk_by_scanning_the_ticket(browser, hall):
    ticket = requests.post(f"{hall}/api/v1/tickets", json={"service": "enterprise"}).json()
    kiosk = device_page(browser, hall.device_link("/kiosk"))
    kiosk.click("#to-rate")
    kiosk.fill("#rate-slip", ticket["status_url"])  # what the QR scanner types
    kiosk.click("#rate-find button[type=submit]")
    kiosk.wait_for_function("() => !document.getElementById('error').hidden")
    assert kiosk.inner_text("#error") == "只有办结的服务才能评价"
    clerk = live_window(hall.url, 5, "c05")
    for action in ("call-next", "start", "finish"):
        assert clerk.post(f"{hall}/api/v1/windows/5/{action}").status_code == 200
    kiosk.click("#rate-find button[type=submit]")
    kiosk.wait_for_selector("#rate-box:not([hidden])")
    kiosk.click("#kiosk-rating label.level-4")
    kiosk.click("#kiosk-rating button[type=submit]")
    kiosk.wait_for_selector("#rate-thanks:not([hidden])")
    rating = requests.get(f"{hall}/api/v1/tickets/{ticket['token']}").json()["rating"]
    assert (rating["level_code"], rating["channel"]) == ("satisfied", "kiosk")
    kiosk.wait_for_selector("#step-zone:not([hidden])", timeout=WAIT_MS)  # ready for the next
    assert kiosk.errors == [], kiosk.errors
