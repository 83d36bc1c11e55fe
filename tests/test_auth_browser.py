"""Staff login and a device link in headless Chromium, against the app served on loopback."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.support.browser import new_page
from tests.test_auth import device_link, make_app

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path, hall_config, clock):
    app = make_app(f"sqlite:///{tmp_path / 'hall.db'}", hall_config, clock)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    app.extensions["hall"].db.dispose()


def test_staff_login_in_a_browser(browser, served):
    app, base = served
    page = new_page(browser)
    page.goto(f"{base}/probe/manager-page")
    assert page.url == f"{base}/login?next=/probe/manager-page"
    page.fill("input[name=login]", "manager")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "账号或密码错误"
    page.fill("input[name=password]", "hall-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/probe/manager-page")
    assert page.inner_text("body") == "manager page"
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.close()


def test_device_link_on_a_screen(browser, served):
    app, base = served
    screen = new_page(browser)
    screen.goto(base + "/probe" + device_link(app))
    assert screen.url == f"{base}/probe/screen?zone=front_intake"  # the token left the URL
    assert screen.inner_text("body") == "screen page"
    screen.reload()
    assert screen.inner_text("body") == "screen page"  # the cookie carries it from now on
    cookie = next(c for c in screen.context.cookies() if c["name"] == "hall_device")
    assert cookie["httpOnly"] and cookie["expires"] > 0
    laptop = new_page(browser)  # another browser: no cookie, no screen
    laptop.goto(f"{base}/probe/screen?zone=front_intake")
    assert laptop.url.startswith(f"{base}/login")
    screen.close()
    laptop.close()
