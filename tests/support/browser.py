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
    """A page whose script errors fail the test instead of passing unseen."""
    page = browser.new_page(**options)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def clerk_console(browser: Any, hall: str, window: int, clerk: str, **options: Any) -> Any:
    """The clerk console, logged in at ``window`` as ``clerk`` (demo PIN)."""
    page = new_page(browser, **options)
    page.goto(f"{hall}/clerk")
    page.select_option("#window", str(window))
    page.wait_for_selector(f"#clerk option[value={clerk}]", state="attached")
    page.select_option("#clerk", clerk)
    page.fill("#pin", "1234")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#console:not([hidden])")
    return page
