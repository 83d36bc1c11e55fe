"""One-window intake end to end in headless Chromium against the real server
(``python -m hall_web serve --demo``): the clerk console serves a ticket, the intake form
merges the materials of two departments' items, refuses while a key material is missing,
validates the applicant in the page, accepts with gaps and opens the routing slip; then an
approver works the case in the back-office console and the admin resends a dead letter."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from hall_ops.cases import handoff
from hall_ops.cases.approval import ConsoleBackend, WebhookBackend
from hall_ops.cases.intake import IntakeRules
from hall_ops.clock import hall_day
from hall_ops.config import load_config
from hall_ops.db import Database
from tests.support.browser import clerk_console, staff_page
from tests.support.server import ROOT, free_port, running_server
from tests.support.web import live_staff, live_window

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
WAIT_MS = 15_000

PAPER = ["公司登记（备案）申请书", "公司章程", "董事、监事和经理的任职文件",
         "经办人身份证明及授权委托书", "新办纳税人涉税事项申请表"]
E_LICENCES = ["股东主体资格证明", "法定代表人身份证明", "营业执照"]
GAPS = ["住所使用证明", "银行开户许可证或开户信息"]


@pytest.fixture
def hall(tmp_path):
    with running_server(tmp_path) as server:
        yield server


def _material(name: str, box: str) -> str:
    return f'#materials tr[data-material="{name}"] input.{box}'


def test_clerk_accepts_two_departments_items_with_gaps_and_prints_the_routing_slip(browser, hall):
    hall_config = load_config(ROOT / "config.toml")
    rules = IntakeRules.from_config(hall_config)
    today = hall_day(dt.datetime.now(dt.UTC).replace(tzinfo=None), rules.timezone)
    due = rules.calendar.add_working_days(today, rules.supplement_working_days).isoformat()
    ticket = requests.post(f"{hall}/api/v1/tickets", json={"service": "enterprise"}).json()
    assert ticket["number"] == "B001"

    # The clerk console: log in at intake window 4, call the ticket, start serving it.
    clerk = clerk_console(browser, hall, 4, "c04", viewport={"width": 1280, "height": 1000})
    clerk.click("button[data-action=call-next]")
    clerk.wait_for_function("() => document.querySelector('#current').textContent === 'B001'")
    clerk.click("button[data-action=start]")
    clerk.wait_for_function(
        "() => document.querySelector('#state').classList.contains('state-serving')")

    # The intake form of the same window, in the same browser session.
    clerk.goto(f"{hall}/intake?window=4")
    clerk.wait_for_function("() => document.querySelector('#ticket').textContent === 'B001'",
                            timeout=WAIT_MS)
    assert clerk.is_hidden("#no-ticket")
    clerk.wait_for_selector("input[name=item][value='QY-08']", state="attached")
    assert clerk.locator("input[name=item][value='BDC-01']").count() == 0  # not this window's
    clerk.check("input[name=item][value='QY-01']")
    clerk.check("input[name=item][value='QY-08']")
    clerk.wait_for_selector(_material("新办纳税人涉税事项申请表", "paper"), state="attached")

    # Shared materials appear once, for both items; key ones are marked.
    rows = clerk.locator("#materials tr[data-material]")
    assert rows.count() == 10
    shared = clerk.locator('#materials tr[data-material="经办人身份证明及授权委托书"]')
    assert "shared" in shared.get_attribute("class") and "QY-01、QY-08" in shared.inner_text()
    assert shared.get_attribute("data-key") == "1" and "关键材料" in shared.inner_text()
    assert clerk.locator(_material("公司章程", "e-licence")).count() == 0  # paper only
    # Nothing ticked yet: every key material is listed and intake is impossible.
    assert clerk.is_visible("#refusal") and clerk.is_disabled("#submit")
    assert "公司章程" in clerk.inner_text("#refusal-list")

    for name in PAPER:
        clerk.check(_material(name, "paper"))
    for name in E_LICENCES:
        clerk.check(_material(name, "e-licence"))
    # Paper and e-licence exclude each other.
    clerk.check(_material("营业执照", "paper"))
    assert not clerk.is_checked(_material("营业执照", "e-licence"))
    clerk.check(_material("营业执照", "e-licence"))
    assert not clerk.is_checked(_material("营业执照", "paper"))

    assert clerk.is_hidden("#refusal") and clerk.is_visible("#gaps")
    assert clerk.inner_text("#gap-list").split("\n") == GAPS
    assert due in clerk.inner_text("#gap-due")

    # The applicant is checked in the page first: a mistyped ID number never leaves it.
    clerk.fill("#applicant-name", "张三")
    clerk.fill("#id-number", "330106198507201230")
    clerk.fill("#phone", "138 0013 8000")
    clerk.click("#submit")
    clerk.wait_for_selector('.field-error[data-for="id-number"]:not([hidden])')
    assert "身份证号码有误" in clerk.inner_text('.field-error[data-for="id-number"]')
    assert clerk.url.endswith("/intake?window=4")
    admin = live_staff(hall.url, "admin")
    assert admin.get(f"{hall}/api/v1/outbox").json()["messages"] == []

    clerk.fill("#id-number", "330106198507201239")
    # By post: the address is asked for in the page; a single hall offers no other hall.
    assert clerk.locator("#delivery-mode option[value=other_hall]").count() == 0
    assert clerk.is_hidden("#delivery-post-row")
    clerk.select_option("#delivery-mode", "post")
    assert clerk.is_visible("#delivery-post-row")
    clerk.click("#submit")
    clerk.wait_for_selector('.field-error[data-for="delivery-postcode"]:not([hidden])')
    assert clerk.url.endswith("/intake?window=4")
    clerk.fill("#delivery-address", "浙江省杭州市西湖区文三路90号")
    clerk.fill("#delivery-postcode", "310012")
    clerk.click("#submit")
    clerk.wait_for_url("**/cases/*/slip", timeout=WAIT_MS)
    number = f"SQ{today:%Y%m%d}-0001"
    assert clerk.url.endswith(f"/cases/{number}/slip")
    destination = live_window(hall.url, 5, "c05").get(f"{hall}/api/v1/cases/{number}").json()
    assert destination["delivery"]["mode"] == "post"
    assert destination["delivery"]["address"] == {"address": "浙江省杭州****",
                                                  "postcode": "310012"}

    # The routing slip: QR of the case number, departments, materials, masked applicant.
    assert clerk.inner_text("#case-number") == number
    assert clerk.locator("#qr svg").count() == 1
    assert clerk.inner_text("#applicant-name").startswith("张*")
    assert clerk.inner_text("#applicant-id") == "3****************9"
    assert clerk.inner_text("#applicant-phone") == "138****8000"
    departments = clerk.inner_text("#departments")
    assert "市场监督管理局：QY-01" in departments and "税务局：QY-08" in departments
    missing = clerk.locator("#missing tr[data-material]")
    assert [missing.nth(i).get_attribute("data-material") for i in range(missing.count())] == GAPS
    assert due in clerk.inner_text("#missing")
    assert clerk.locator("#received tr[data-material]").count() == len(PAPER) + len(E_LICENCES)
    # One hand-off per department is waiting in the outbox.
    outbox = admin.get(f"{hall}/api/v1/outbox").json()
    assert {m["department"] for m in outbox["messages"]} == {"scj", "swj"}

    ARTIFACTS.mkdir(exist_ok=True)
    clerk.screenshot(path=str(ARTIFACTS / "routing_slip.png"), full_page=True)
    assert "邮寄送达" in clerk.inner_text("#delivery")

    # Back in the console: the citizen changes their mind before the result is ready.
    clerk.goto(f"{hall}/clerk")
    clerk.wait_for_selector("#console:not([hidden])")
    clerk.fill("#delivery-case", number)
    clerk.click("#delivery-find button[type=submit]")
    clerk.wait_for_function("() => document.querySelector('#delivery-state').textContent"
                            ".includes('邮寄送达')")
    assert clerk.is_hidden("#mailing") and clerk.is_visible("#delivery-change")
    clerk.select_option("#change-mode", "hall")
    clerk.fill("#change-reason", "申请人改为自取")
    clerk.click("#delivery-change button[type=submit]")
    clerk.wait_for_function("() => document.querySelector('#delivery-state').textContent"
                            ".includes('本大厅领取')")
    changed = live_window(hall.url, 5, "c05").get(f"{hall}/api/v1/cases/{number}").json()
    assert [(c["mode"], c["actor"], c["reason"]) for c in changed["delivery"]["choices"]] == [
        ("post", "c04", None), ("hall", "c04", "申请人改为自取")]
    assert clerk.errors == [], clerk.errors


def test_approver_works_a_case_in_the_console_and_the_admin_resends_a_dead_letter(
    browser, hall, tmp_path
):
    # A case accepted over the API by the clerk at window 4.
    requests.post(f"{hall}/api/v1/tickets", json={"service": "enterprise"})
    clerk = live_window(hall.url, 4, "c04")
    assert clerk.post(f"{hall}/api/v1/windows/4/call-next").json()["ticket"]["number"] == "B001"
    r = clerk.post(f"{hall}/api/v1/windows/4/intake", json={
        "applicant": {"kind": "person", "name": "李四", "id_number": "330106198507201239",
                      "phone": "13800138000"},
        "items": ["QY-01", "QY-08"], "received": PAPER, "e_licences": E_LICENCES,
    })
    assert r.status_code == 201, r.text
    number = r.json()["case_number"]

    # A dispatcher in another process: the console takes scj's share; the tax bureau's
    # system (a webhook) is unreachable, and one try is all this run allows.
    db = Database(f"sqlite:///{tmp_path / 'hall.db'}")
    console = ConsoleBackend(db)
    down = WebhookBackend(f"http://127.0.0.1:{free_port()}/intake", "secret", timeout=2)
    report = handoff.dispatch_due(
        db, lambda department: console if department == "scj" else down,
        dt.datetime.now(dt.UTC).replace(tzinfo=None), policy=handoff.RetryPolicy(max_attempts=1),
    )
    db.dispose()
    assert (report.delivered, report.dead) == ([f"{number}:scj"], [f"{number}:swj"])

    page = staff_page(browser, hall, "/backoffice", "appr-scj",
                      viewport={"width": 1280, "height": 900})
    assert page.locator("a[data-department]").count() == 1  # only the approver's department
    page.click("a[data-department=scj]")
    card = f'article.case[data-case="{number}"]'
    page.wait_for_selector(card, timeout=WAIT_MS)
    assert page.inner_text("#department-name") == "市场监督管理局"
    # The list shows the applicant masked; the department decides on the full identity,
    # shown when the approver opens it (and logged).
    assert "李*" in page.inner_text(card) and "李四" not in page.inner_text(card)
    page.click(f"{card} button.reveal")
    page.wait_for_function(
        f"() => document.querySelector('{card} .applicant').textContent.includes('李四')")
    assert "330106198507201239" in page.inner_text(card)
    assert page.is_enabled(f"{card} button[data-action=claim]")
    assert page.is_disabled(f"{card} button[data-action=approve]")
    page.click(f"{card} button[data-action=claim]")
    page.wait_for_selector(f'{card}[data-status="claimed"]')
    assert "appr-scj" in page.inner_text(card)  # the logged-in approver

    # A supplement request without a reason is refused by the server, in Chinese.
    page.click(f"{card} button[data-action=supplement]")
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error") == "请填写理由"
    page.fill(f"{card} textarea.reason", "住所使用证明须加盖产权单位公章")
    page.click(f"{card} button[data-action=supplement]")
    page.wait_for_selector(f'{card}[data-status="supplement_requested"]')
    assert "住所使用证明 · 待补材料" in page.inner_text(card)
    case = clerk.get(f"{hall}/api/v1/cases/{number}").json()
    assert {i["code"]: i["status"] for i in case["items"]}["QY-01"] == "supplement_requested"

    # The applicant brings it; the approver sees it arrived, resumes and approves.
    assert clerk.post(f"{hall}/api/v1/cases/{number}/supplements",
                      json={"material": "住所使用证明", "ticket": "B001"}).status_code == 201
    page.click("#refresh")
    page.wait_for_function(
        f"() => !document.querySelector('{card}').textContent.includes('住所使用证明 · 待补材料')")
    page.click(f"{card} button[data-action=claim]")
    page.wait_for_selector(f'{card}[data-status="claimed"]')
    page.click(f"{card} button[data-action=approve]")
    page.wait_for_selector(f'{card}[data-status="approved"]')
    assert page.is_disabled(f"{card} button[data-action=reject]")
    case = clerk.get(f"{hall}/api/v1/cases/{number}").json()
    assert {i["code"]: i["status"] for i in case["items"]} == {"QY-01": "approved",
                                                               "QY-08": "submitted"}

    # The admin sees the dead letter and sends it again.
    outbox = staff_page(browser, hall, "/admin/outbox?status=dead", "admin",
                        viewport={"width": 1280, "height": 900})
    row = '#messages tr[data-status="dead"]'
    outbox.wait_for_selector(row, timeout=WAIT_MS)
    assert number in outbox.inner_text(row) and "税务局" in outbox.inner_text(row)
    assert "Connection" in outbox.inner_text(f"{row} td.error-text")
    assert outbox.inner_text("#filters a[data-status=dead] .count") == "(1)"
    outbox.click(f"{row} button[data-resend]")
    outbox.wait_for_selector("#no-messages:not([hidden])")
    assert outbox.inner_text("#filters a[data-status=pending] .count") == "(1)"
    messages = live_staff(hall.url, "admin").get(f"{hall}/api/v1/outbox").json()["messages"]
    assert {m["department"]: m["status"] for m in messages} == {"scj": "delivered",
                                                                "swj": "pending"}
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "backoffice.png"), full_page=True)
    outbox.goto(f"{hall}/admin/outbox")
    outbox.wait_for_selector("#messages tr[data-status]")
    outbox.screenshot(path=str(ARTIFACTS / "outbox.png"), full_page=True)
    for p in (page, outbox):
        assert p.errors == [], p.errors
