"""Headless Debian Chromium driven by Playwright, shared by every browser test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from tests.support.services import service_missing

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def launch() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        service_missing(
            f"{CHROMIUM} is missing (Debian package 'chromium'); ./hall test installs it"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def new_page(browser: Any, **options: Any) -> Any:
    """A page whose script errors, and anything the Content-Security-Policy blocked, fail the
    test instead of passing unseen (``page.errors``)."""
    page = browser.new_page(**options)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: page.errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    return page


def clerk_console(browser: Any, hall: Any, window: int, clerk: str, **options: Any) -> Any:
    """The clerk console, logged in at ``window`` as ``clerk`` (demo PIN)."""
    page = new_page(browser, **options)
    page.goto(f"{hall}/clerk")
    page.select_option("#window", str(window))
    page.fill("#clerk", clerk)
    page.fill("#pin", "1234")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#console:not([hidden])")
    return page


def staff_page(browser: Any, hall: Any, path: str, login: str, password: str = "hall-demo",
               **options: Any) -> Any:
    """``path`` opened by a staff member: the login page first, then back to ``path``."""
    page = new_page(browser, **options)
    page.goto(f"{hall}{path}")
    page.wait_for_url("**/login?next=**")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{hall}{path}")
    return page


def device_page(browser: Any, link: str, **options: Any) -> Any:
    """A screen or kiosk: its device link opened once (the token moves into a cookie)."""
    page = new_page(browser, **options)
    page.goto(link)
    return page
