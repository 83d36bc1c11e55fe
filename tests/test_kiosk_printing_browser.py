"""The kiosk with its own ESC/POS printer in headless Chromium against the real server: it
prints on the printer, and out of paper it says so and issues no ticket."""

from __future__ import annotations

import pytest
import requests

from tests.support.browser import device_page
from tests.support.escpos_printer import EscposPrinterStub
from tests.support.server import HallServer, site_config

pytestmark = pytest.mark.browser

WAIT_MS = 15_000


@pytest.fixture
def printer():
    stub = EscposPrinterStub()
    yield stub
    stub.close()


@pytest.fixture
def hall(tmp_path, printer):
    config = site_config(tmp_path)
    with config.open("a", encoding="utf-8") as fh:
        fh.write(f'\n[[printers]]\nname = "kiosk-1"\nhost = "127.0.0.1"\nport = {printer.port}\n'
                 'scope = "hall"\ntimeout_seconds = 2\n')
    with HallServer(tmp_path, config=config) as server:
        yield server


def waiting(hall) -> int:
    return sum(s["waiting"] for s in requests.get(f"{hall}/api/v1/queue").json()["services"])


def test_the_kiosk_prints_on_its_printer_and_refuses_without_paper(browser, hall, printer):
    printer.paper = "out"
    kiosk = device_page(browser, hall.device_link("/kiosk"))
    kiosk.wait_for_selector("#paper-out:not([hidden])", timeout=WAIT_MS)
    assert "缺纸" in kiosk.inner_text("#paper-out")

    printer.paper = "ok"
    kiosk.reload()
    kiosk.wait_for_selector("#step-zone:not([hidden])")
    kiosk.wait_for_function("() => document.querySelector('#paper-out').hidden")
    kiosk.click("#step-zone [data-zone=front_intake]")
    kiosk.click("#services [data-service=investment]")
    kiosk.wait_for_selector("#printed:not([hidden])", timeout=WAIT_MS)
    number = kiosk.inner_text("#ticket-number")
    assert kiosk.is_hidden("#print")  # the printer printed it: no browser print button
    assert any(number.encode() in job for job in printer.printed)
    assert waiting(hall) == 1

    printer.paper = "out"  # runs out while the next citizen chooses
    kiosk.click("#again")
    kiosk.click("#step-zone [data-zone=front_intake]")
    kiosk.click("#services [data-service=investment]")
    kiosk.wait_for_selector("#paper-out:not([hidden])", timeout=WAIT_MS)
    kiosk.wait_for_selector("#error:not([hidden])")
    assert "缺纸" in kiosk.inner_text("#error")
    assert kiosk.is_hidden("#step-ticket")
    assert kiosk.is_disabled("#services [data-service=investment]")
    assert waiting(hall) == 1  # no ticket nobody can hold
    assert len(printer.printed) == 1
