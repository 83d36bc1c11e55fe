"""The paperless second visit in headless Chromium against the real server: a first
registration approved in the back office issues the title certificate; at the sale, the
intake page offers it instead of paper, will not accept without the applicant's consent,
uploads the scan of a paper material, and the routing slip names the licence; the
applicant's ticket page shows which department used it."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import requests

from hall_ops.cases import handoff
from hall_ops.cases.approval import ConsoleBackend
from hall_ops.db import Database
from tests.support.browser import clerk_console, staff_page
from tests.support.server import ROOT, running_server
from tests.support.web import live_staff, live_window
from tests.test_licences import (
    CERTIFICATE,
    FIRST_E,
    FIRST_ITEMS,
    FIRST_PAPER,
    GAPS_CONFIRMED,
    PDF,
    SALE_PAPER,
)

pytestmark = pytest.mark.browser
WAIT_MS = 15_000
ARTIFACTS = ROOT / "test-artifacts"
APPLICANT = {"kind": "person", "name": "张三", "id_number": "330106198507201239",
             "phone": "13800138000"}


@pytest.fixture
def hall(tmp_path):
    with running_server(tmp_path) as server:
        yield server


def row(material: str, box: str) -> str:
    return f'#materials tr[data-material="{material}"] input.{box}'


def test_the_second_visit_uses_the_licence_of_the_first_instead_of_paper(browser, hall,
                                                                          tmp_path):
    # First visit, over the API: the first registration, approved by bdc's approver.
    requests.post(f"{hall}/api/v1/tickets", json={"service": "real_estate"})
    first = live_window(hall.url, 9, "c09")
    assert first.post(f"{hall}/api/v1/windows/9/call-next").json()["ticket"] is not None
    r = first.post(f"{hall}/api/v1/windows/9/intake", json={
        "applicant": APPLICANT, "items": FIRST_ITEMS, "received": FIRST_PAPER,
        "e_licences": FIRST_E})
    assert r.status_code == 201, r.text
    db = Database(f"sqlite:///{tmp_path / 'hall.db'}")
    console = ConsoleBackend(db)
    handoff.dispatch_due(db, lambda department: console,
                         dt.datetime.now(dt.UTC).replace(tzinfo=None))
    db.dispose()
    approver = live_staff(hall.url, "appr-bdc")
    [case] = approver.get(f"{hall}/api/v1/backoffice/bdc/cases").json()["cases"]
    # a gap (容缺) is still outstanding: approved on a recorded reason
    for action, body in (("claim", {}), ("approve", GAPS_CONFIRMED)):
        assert approver.post(f"{hall}/api/v1/backoffice/cases/{case['id']}/{action}",
                             json=body).status_code == 200
    [issued] = first.get(f"{hall}/api/v1/cases/{r.json()['case_number']}/licences"
                         ).json()["issued"]
    number = issued["number"]

    # Second visit: the clerk at window 10 serves the sale.
    token = requests.post(f"{hall}/api/v1/tickets", json={"service": "real_estate"}).json()[
        "token"]
    clerk = clerk_console(browser, hall, 10, "c10", viewport={"width": 1400, "height": 1100})
    clerk.click("button[data-action=call-next]")
    clerk.wait_for_function("() => document.querySelector('#current').textContent !== '—'")
    clerk.click("button[data-action=start]")
    clerk.wait_for_function(
        "() => document.querySelector('#state').classList.contains('state-serving')")
    clerk.goto(f"{hall}/intake?window=10")
    clerk.wait_for_selector("input[name=item][value='BDC-01']", state="attached")
    clerk.check("input[name=item][value='BDC-01']")
    clerk.wait_for_selector(row(CERTIFICATE, "paper"), state="attached")
    assert clerk.locator(row(CERTIFICATE, "library")).count() == 0  # no applicant yet
    clerk.fill("#applicant-name", "张三")
    clerk.fill("#phone", "13800138000")
    clerk.fill("#id-number", APPLICANT["id_number"])
    # The library holds the certificate for this applicant: offered in place of paper.
    clerk.wait_for_selector(row(CERTIFICATE, "library"), timeout=WAIT_MS)
    assert number in clerk.inner_text(f'#materials tr[data-material="{CERTIFICATE}"]')
    for material in SALE_PAPER:
        clerk.check(row(material, "paper"))
    clerk.check(row("申请人身份证明", "e-licence"))
    clerk.check(row(CERTIFICATE, "library"))
    assert not clerk.is_checked(row(CERTIFICATE, "paper"))
    # Without the applicant's consent the page will not accept.
    assert clerk.is_visible("#consent-row") and clerk.is_disabled("#submit")
    clerk.check("#licence-consent")
    assert clerk.is_enabled("#submit")
    ARTIFACTS.mkdir(exist_ok=True)
    clerk.screenshot(path=str(ARTIFACTS / "intake_with_licence.png"), full_page=True)
    clerk.set_input_files(row("不动产买卖合同", "scan"), files=[
        {"name": "contract.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    clerk.click("#submit")
    clerk.wait_for_url("**/cases/*/slip", timeout=WAIT_MS)
    second = clerk.inner_text("#case-number")
    received = clerk.inner_text(f'#received tr[data-material="{CERTIFICATE}"]')
    assert number in received and "电子证照" in received

    # The scan is stored with its checksum; the case lists the licence as used by bdc.
    window = live_window(hall.url, 10, "c10")
    files = window.get(f"{hall}/api/v1/cases/{second}/files").json()["files"]
    assert [(f["material"], f["sha256"]) for f in files] == [
        ("不动产买卖合同", hashlib.sha256(PDF).hexdigest())]
    [used] = window.get(f"{hall}/api/v1/cases/{second}/licences").json()["used"]
    assert (used["number"], used["departments"]) == (number, ["bdc"])

    # The holder's ticket page shows who used the licence.
    page = browser.new_page()
    page.goto(f"{hall}/t/{token}")
    uses = page.inner_text("#licence-uses")
    assert "不动产登记中心" in uses and number in uses and second in uses
    page.screenshot(path=str(ARTIFACTS / "ticket_licences.png"), full_page=True)
    page.goto(issued["verify_url"])
    assert page.get_attribute("#verdict", "data-status") == "valid"
    page.screenshot(path=str(ARTIFACTS / "verify.png"), full_page=True)

    # bdc's approver revokes it from the licence's page, with a reason; the QR now says so.
    office = staff_page(browser, hall, f"/licences/{number}", "appr-bdc")
    office.fill("#reason", "产权已转移")
    office.once("dialog", lambda dialog: dialog.accept())
    office.click("#revoke button[type=submit]")
    office.wait_for_selector("dd.revoked", timeout=WAIT_MS)
    assert "产权已转移" in office.inner_text("dd.revoked")
    assert office.locator("#revoke").count() == 0
    page.goto(issued["verify_url"])
    assert page.get_attribute("#verdict", "data-status") == "revoked"
    for p in (clerk, office):
        assert p.errors == [], p.errors
