"""Staff login, the admin's staff and device page, and a device link on a real call screen, in
headless Chromium against the real server (``python -m hall_web serve --demo``)."""

from __future__ import annotations

import pytest
import requests

from tests.support.browser import clerk_console, new_page, staff_page
from tests.support.server import running_server
from tests.support.web import live_window

pytestmark = pytest.mark.browser

WAIT_MS = 15_000


@pytest.fixture
def hall(tmp_path):
    with running_server(tmp_path) as server:
        yield server


def test_staff_login_and_logout_on_the_manager_page(browser, hall):
    page = new_page(browser)
    page.goto(f"{hall}/manager")
    assert page.url == f"{hall}/login?next=/manager"
    page.fill("input[name=login]", "manager")
    page.fill("input[name=password]", "wrong password")
    page.click("form.login button[type=submit]")
    assert page.locator(".error").inner_text() == "账号或密码错误"
    page.fill("input[name=password]", "hall-demo")
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{hall}/manager")
    assert page.inner_text("#staff-name") == "大厅主任"
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    # The manager's live page joined its room: a call made now shows without a reload.
    assert requests.post(f"{hall}/api/v1/tickets", json={"service": "enterprise"}).ok
    live_window(hall.url, 4, "c01").post(f"{hall}/api/v1/windows/4/call-next")
    page.wait_for_selector("text=B001", timeout=WAIT_MS)
    page.click("form.staff button[type=submit]")  # log out (a form post with the CSRF token)
    page.wait_for_url(f"{hall}/login")
    page.goto(f"{hall}/manager")
    assert page.url == f"{hall}/login?next=/manager"
    assert page.errors == [], page.errors


def test_admin_issues_a_device_link_that_makes_a_call_screen(browser, hall):
    admin = staff_page(browser, hall, "/admin/staff", "admin",
                       viewport={"width": 1400, "height": 1000})
    admin.wait_for_selector("#staff tbody tr[data-login=c01]")
    admin.select_option("#issue select[name=kind]", "screen")
    admin.fill("#issue input[name=name]", "前台受理区二号屏")
    admin.select_option("#issue select[name=scope]", "zone:front_intake")
    admin.click("#issue button[type=submit]")
    admin.wait_for_selector("#issued:not([hidden])")
    link = admin.inner_text("#issued-link")
    assert link.startswith(f"{hall}/screen?zone=front_intake&device=")
    assert admin.get_attribute("#issued-qr", "src").startswith("data:image/svg+xml;base64,")
    device_row = '#devices tr:has-text("前台受理区二号屏")'
    admin.wait_for_selector(device_row)

    screen = new_page(browser, viewport={"width": 1600, "height": 900})
    screen.goto(link)
    assert screen.url == f"{hall}/screen?zone=front_intake"  # the token left the address
    cookie = next(c for c in screen.context.cookies() if c["name"] == "hall_device")
    assert cookie["httpOnly"] and cookie["expires"] > 0
    screen.wait_for_function("() => document.querySelector('#waiting').rows.length === 5")
    # Its room joined: a call at window 4 (front intake) arrives over Socket.IO.
    assert requests.post(f"{hall}/api/v1/tickets", json={"service": "enterprise"}).ok
    live_window(hall.url, 4, "c01").post(f"{hall}/api/v1/windows/4/call-next")
    screen.wait_for_function(
        "() => document.querySelector('#current .num').textContent === 'B001'", timeout=WAIT_MS)

    laptop = new_page(browser)  # another browser: no cookie, no screen
    laptop.goto(f"{hall}/screen?zone=front_intake")
    assert laptop.url.startswith(f"{hall}/login")

    admin.click(f"{device_row} button.warn")  # revoke
    admin.wait_for_selector(f"{device_row}.disabled")
    screen.reload()
    assert screen.url.startswith(f"{hall}/login")  # revoked: the next request is refused
    assert not [c for c in screen.context.cookies() if c["name"] == "hall_device"]
    for page in (admin, screen, laptop):
        assert page.errors == [], page.errors


def test_admin_adds_a_clerk_who_then_logs_in_at_a_window(browser, hall):
    admin = staff_page(browser, hall, "/admin/staff", "admin",
                       viewport={"width": 1400, "height": 1000})
    admin.fill("#add-staff input[name=login]", "zhao")
    admin.fill("#add-staff input[name=name]", "赵敏")
    admin.fill("#add-staff input[name=pin]", "2468")
    admin.click("#add-staff button[type=submit]")
    admin.wait_for_selector("#editor:not([hidden])")
    assert "zhao" in admin.inner_text("#editing")
    admin.select_option("#grant select[name=role]", "clerk")
    admin.click("#grant button[type=submit]")
    admin.wait_for_selector("#staff tr[data-login=zhao] .role")
    admin.select_option("#windows select", ["6"])
    admin.click("#windows button[type=submit]")
    admin.wait_for_function(
        "() => document.querySelector('#staff tr[data-login=zhao] td:nth-child(4)')"
        ".textContent === '6'")
    assert admin.errors == [], admin.errors

    clerk = new_page(browser)
    clerk.goto(f"{hall}/clerk")
    clerk.select_option("#window", "7")  # not one of hers
    clerk.fill("#clerk", "zhao")
    clerk.fill("#pin", "2468")
    clerk.click("#login button[type=submit]")
    clerk.wait_for_selector("#error:not([hidden])")
    assert clerk.inner_text("#error") == "该工作人员不能登录此窗口"
    clerk.select_option("#window", "6")
    clerk.click("#login button[type=submit]")
    clerk.wait_for_selector("#console:not([hidden])")
    assert clerk.inner_text("#title") == "6 号窗口 · 赵敏"

    # The security log shows it: her role, her windows, the refused login.
    admin.select_option("#log-filter select", "login_failed,locked_out")
    admin.wait_for_selector('#log tr:has-text("zhao")')
    assert "window_not_allowed" in admin.inner_text("#log")
    assert clerk_console(browser, hall, 4, "c04").errors == []
