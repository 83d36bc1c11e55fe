"""The manager dashboard and reports in headless Chromium against the real server
(``python -m hall_web serve --demo``): live queue counts, alerts and window states without a
reload, a workload proposal applied with one click, and the report charts."""

from __future__ import annotations

import pytest
import requests

from tests.support.browser import staff_page
from tests.support.server import running_server
from tests.support.web import live_staff, live_window

pytestmark = pytest.mark.browser

WAIT_MS = 15_000

@pytest.fixture
def hall(tmp_path):
    with running_server(tmp_path) as server:
        yield server


def _count(service: str) -> str:
    return f"document.querySelector('#queue tr[data-service={service}] .count')?.textContent"


def _take(hall: object, service: str, times: int = 1) -> None:
    for _ in range(times):
        assert requests.post(f"{hall}/api/v1/tickets", json={"service": service}).status_code == 201


def test_dashboard_follows_the_hall_live_and_applies_a_proposal(browser, hall):
    page = staff_page(browser, hall, "/manager/dashboard", "manager",
                      viewport={"width": 1400, "height": 1000})
    page.wait_for_function(f"() => {_count('enterprise')} === '0'")
    page.wait_for_selector("#zones .zone-card[data-zone=front_intake] .flag.estimate")
    assert page.inner_text("#zones .zone-card[data-zone=front_intake] .flag.estimate") == "估算"
    assert page.inner_text("#cameras tr[data-camera=cam-front-1] td:nth-child(3)") == "尚未轮询"
    page.wait_for_function("() => document.querySelector('#alerts li.ok') !== null")
    page.evaluate("window.stayedOpen = true")

    # A ticket taken at the kiosk: the count changes over Socket.IO, no reload.
    _take(hall, "enterprise")
    page.wait_for_function(f"() => {_count('enterprise')} === '1'", timeout=WAIT_MS)
    # People waiting and no window open: an alert, live.
    page.wait_for_selector("#alerts li.alert-unstaffed", timeout=WAIT_MS)
    assert page.inner_text("#alerts li.alert-unstaffed") == "B 企业登记：1 人等候，但无窗口开放"

    # Clerks log in at window 1 (investment, nobody waiting) and 4 (enterprise): states follow.
    for number, clerk in ((1, "c01"), (4, "c04")):
        live_window(hall.url, number, clerk)
    page.wait_for_function(
        "() => document.querySelector('#windows tr[data-window=\"4\"] .state-badge').textContent"
        " === '空闲'", timeout=WAIT_MS)
    page.wait_for_selector("#alerts li.alert-unstaffed", state="detached", timeout=WAIT_MS)

    # The queue passes the alert line (15 by default).
    _take(hall, "enterprise", 15)
    page.wait_for_function(f"() => {_count('enterprise')} === '16'", timeout=WAIT_MS)
    page.wait_for_selector("#alerts li.alert-queue", timeout=WAIT_MS)
    assert "告警线 15 人" in page.inner_text("#alerts li.alert-queue")

    # The idle investment window is proposed to help; one click applies it.
    page.click("#refresh-proposals")
    row = '#proposals tr[data-window="1"]:has-text("1号窗口增办企业登记")'
    page.wait_for_selector(row, timeout=WAIT_MS)
    assert "自动调配" not in page.inner_text(row) and "调整业务" in page.inner_text(row)
    page.click(f"{row} button.apply")
    page.wait_for_function(
        "() => document.querySelector('#windows tr[data-window=\"1\"] td.services').textContent"
        " === 'A B'", timeout=WAIT_MS)
    page.wait_for_selector("#changes tr", timeout=WAIT_MS)
    assert "manager" in page.inner_text("#changes")  # the login of the manager who applied it
    assert live_staff(hall.url, "manager").get(f"{hall}/api/v1/windows/1").json()["services"] == \
        ["enterprise", "investment"]
    assert page.evaluate("window.stayedOpen") is True
    assert page.errors == []


def test_reports_page_draws_its_charts_in_english(browser, hall):
    _take(hall, "enterprise", 2)
    page = staff_page(browser, hall, "/manager/reports?lang=en", "manager")
    page.wait_for_function(
        "() => document.querySelector('#report-service tbody tr td')?.textContent"
        " === 'B Enterprise registration'", timeout=WAIT_MS)
    assert page.inner_text("#kpi-tickets") == "2"
    assert page.inner_text("#report-service tbody tr td:nth-child(2)") == "2"
    # Every grouping with tickets has its chart drawn (Chart.js sized the canvas); nobody was
    # served yet, so the window and clerk reports say so instead of drawing an empty chart.
    page.wait_for_function("() => Object.keys(Chart.instances).length === 5", timeout=WAIT_MS)
    drawn = page.evaluate(
        "[...document.querySelectorAll('section.report')].map(s => [s.dataset.group,"
        " !s.querySelector('.dash-chart').hidden && s.querySelector('canvas').width > 0,"
        " !s.querySelector('.empty').hidden])")
    assert drawn == [["day", True, False], ["hour", True, False], ["service", True, False],
                     ["window", False, True], ["clerk", False, True]]
    href = page.get_attribute("#report-day a.csv", "href")
    csv = live_staff(hall.url, "manager").get(f"{hall}{href}")
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert page.errors == []
