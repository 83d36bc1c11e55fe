"""A form filled on the phone and accepted at the window without re-typing, end to end in
headless Chromium against the real server: the citizen's ticket page draws the item's form
from the catalogue, shows the server's refusal beside the ID box, saves the draft; the clerk
at intake window 4 pulls it for the ticket in hand, the page fills itself, the clerk ticks the
materials and accepts; the case holds what the citizen typed and no field was changed.
Then the kiosk's on-screen keyboard types into a form."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from sqlalchemy import select

from hall_ops.cases.intake import IntakeRules, get_case
from hall_ops.clock import hall_day
from hall_ops.config import load_config
from hall_ops.db import Database
from hall_ops.forms.drafts import CaseForm, FormDraft
from tests.support.browser import clerk_console, device_page, new_page
from tests.support.server import ROOT, running_server

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
WAIT_MS = 15_000
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def hall(tmp_path):
    with running_server(tmp_path) as server:
        yield server


def test_a_form_filled_on_the_phone_is_accepted_at_the_window_without_retyping(browser, hall):
    rules = IntakeRules.from_config(load_config(ROOT / "config.toml"))
    today = hall_day(dt.datetime.now(dt.UTC).replace(tzinfo=None), rules.timezone)
    ticket = requests.post(f"{hall}/api/v1/tickets", json={"service": "enterprise"}).json()

    phone = new_page(browser, **PHONE)
    phone.goto(f"{hall}/t/{ticket['token']}")
    phone.wait_for_selector("#form-item option[value='QY-01']", state="attached")
    phone.select_option("#form-item", "QY-01")
    phone.wait_for_selector("[data-path='fields.QY-01.company_name']")
    assert "拟设公司名称" in phone.inner_text("#form-fields")
    phone.select_option("[data-path='applicant.kind']", "person")
    phone.fill("[data-path='applicant.name']", "李四")
    phone.fill("[data-path='applicant.id_number']", "330106198507201238")  # a slip
    phone.fill("[data-path='applicant.phone']", "13800138000")
    phone.fill("[data-path='fields.QY-01.company_name']", "杭州云帆科技有限公司")
    phone.fill("[data-path='fields.QY-01.registered_capital']", "100")
    phone.fill("[data-path='fields.QY-01.address']", "杭州市西湖区文三路90号")
    phone.fill("[data-path='fields.QY-01.legal_representative']", "李四")
    phone.fill("[data-path='fields.QY-01.representative_id']", "11010519491231002X")
    phone.click("#form-save")
    error = ".field-error[data-for='applicant.id_number']:not([hidden])"
    phone.wait_for_selector(error)
    assert "身份证号码" in phone.inner_text(error)
    # the business scope was left empty: required, said beside its box too
    assert "必填" in phone.inner_text(".field-error[data-for='fields.QY-01.business_scope']")
    phone.fill("[data-path='applicant.id_number']", "330106198507201239")
    phone.fill("[data-path='fields.QY-01.business_scope']", "软件开发、技术服务")
    phone.click("#form-save")
    phone.wait_for_selector("#form-saved:not([hidden])")
    assert "QY-01" in phone.inner_text("#form-saved")
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "form_on_phone.png"), full_page=True)

    clerk = clerk_console(browser, hall, 4, "c04", viewport={"width": 1280, "height": 1000})
    clerk.click("button[data-action=call-next]")
    clerk.wait_for_function(
        f"() => document.querySelector('#current').textContent === '{ticket['number']}'")
    clerk.click("button[data-action=start]")
    clerk.wait_for_function(
        "() => document.querySelector('#state').classList.contains('state-serving')")
    clerk.goto(f"{hall}/intake?window=4")
    clerk.wait_for_function(
        f"() => document.querySelector('#ticket').textContent === '{ticket['number']}'",
        timeout=WAIT_MS)
    clerk.wait_for_selector("input[name=item][value='QY-01']", state="attached")
    clerk.click("#pull-button")  # no number typed: the ticket in hand
    clerk.click("#pull-list li button")
    clerk.wait_for_selector("#draft-loaded:not([hidden])")
    clerk.wait_for_selector("[data-path='fields.QY-01.company_name']")
    # the page filled itself from what the citizen typed
    assert clerk.is_checked("input[name=item][value='QY-01']")
    assert clerk.input_value("#applicant-name") == "李四"
    assert clerk.input_value("#id-number") == "330106198507201239"
    assert clerk.input_value("#phone") == "13800138000"
    assert clerk.input_value("[data-path='fields.QY-01.company_name']") == "杭州云帆科技有限公司"
    boxes = clerk.locator("#materials tr[data-material] input.paper")
    for i in range(boxes.count()):
        boxes.nth(i).check()
    clerk.screenshot(path=str(ARTIFACTS / "intake_from_form.png"), full_page=True)
    clerk.click("#submit")
    clerk.wait_for_url("**/cases/*/slip", timeout=WAIT_MS)
    number = f"SQ{today:%Y%m%d}-0001"
    assert clerk.url.endswith(f"/cases/{number}/slip")
    assert clerk.inner_text("#applicant-name").startswith("李*")
    assert clerk.errors == [] and phone.errors == [], (clerk.errors, phone.errors)

    db = Database(hall.database_url)
    try:
        with db.read() as s:
            case = get_case(s, number)
            assert (case.applicant_name, case.applicant_id_number) == ("李四",
                                                                       "330106198507201239")
            form = s.scalars(select(CaseForm)).one()
            assert (form.accepted_by, form.source, form.corrected) == ("c04", "phone", [])
            assert form.values["fields"]["QY-01"]["business_scope"] == "软件开发、技术服务"
            assert s.scalars(select(FormDraft)).all() == []
    finally:
        db.dispose()
    # the phone page: the draft is gone (accepted), the form can no longer be seen there
    assert requests.get(f"{hall}/api/v1/tickets/{ticket['token']}/draft").status_code == 404


def test_the_kiosk_keyboard_types_into_the_form_and_an_id_card_reader_can_prefill(
        browser, hall):
    kiosk = device_page(browser, hall.device_link("/kiosk"),
                        viewport={"width": 1080, "height": 1600}, has_touch=True)
    kiosk.wait_for_selector("#to-form")
    kiosk.click("#to-form")
    kiosk.wait_for_selector("#kiosk-form-item option[value='QY-05']", state="attached")
    kiosk.select_option("#kiosk-form-item", "QY-05")
    kiosk.wait_for_selector("[data-path='fields.QY-05.operator_name']")
    kiosk.click("[data-path='applicant.phone']")
    for digit in "13800138000":
        kiosk.click(f".simple-keyboard [data-skbtn='{digit}']")
    assert kiosk.input_value("[data-path='applicant.phone']") == "13800138000"
    # the ID-card reader (the floor issue) hands its reading to the page: no typing
    kiosk.evaluate("""() => document.dispatchEvent(new CustomEvent('hall:id-card', {detail:
        {name: '王五', id_number: '11010519491231002X', address: '北京市朝阳区建国路1号'}}))""")
    assert kiosk.input_value("[data-path='applicant.name']") == "王五"
    assert kiosk.input_value("[data-path='applicant.id_number']") == "11010519491231002X"
    kiosk.select_option("[data-path='applicant.kind']", "person")
    kiosk.fill("[data-path='fields.QY-05.operator_name']", "王五")
    kiosk.fill("[data-path='fields.QY-05.premises']", "北京市朝阳区建国路1号")
    kiosk.select_option("[data-path='fields.QY-05.form_of_organisation']", "individual")
    ARTIFACTS.mkdir(exist_ok=True)
    kiosk.screenshot(path=str(ARTIFACTS / "kiosk_form.png"))
    kiosk.click("#kiosk-form-save")
    kiosk.wait_for_selector("#step-ticket:not([hidden])")
    number = kiosk.inner_text("#ticket-number")
    assert number.startswith("B")
    kiosk.click("#again")  # the next citizen: nothing of this one's form is left
    kiosk.wait_for_selector("#step-zone:not([hidden])")
    assert kiosk.locator("#kiosk-form-fields [data-path]").count() == 0
    assert kiosk.errors == [], kiosk.errors
