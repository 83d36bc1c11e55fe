"""The one translation catalogue: in step with the sources, fully Chinese, compiled, and used
by the pages, the page scripts and the API errors."""

from __future__ import annotations

import importlib.util
import io
import json
import re

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from hall_ops.cases.intake import APPLICANT_KINDS, ITEM_STATUSES
from hall_ops.cases.models import CONSOLE_STATUSES, MESSAGE_STATUSES
from hall_ops.config import PRIORITIES
from hall_web.error_messages import ENGLISH
from hall_web.i18n import LANGUAGES, TRANSLATIONS
from sensors.camera import STATUSES as CAMERA_STATUSES
from tests.conftest import ROOT
from tests.support.web import hall_app, staff_client

FIX = "run ./hall i18n, then translate what it left empty in the zh messages.po"


def catalogue(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, lang)


def keys(catalog) -> set[tuple[str | None, str | tuple[str, ...]]]:
    return {(m.context, m.id) for m in catalog if m.id}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """What ``./hall i18n`` extracts from the sources now (the same pybabel call)."""
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    tool.extract(pot)
    with pot.open("rb") as source:
        return read_po(source)


# ---------------------------------------------------------------- the catalogue files


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_mo_is_compiled_from_its_po(lang):
    compiled = io.BytesIO()
    write_mo(compiled, catalogue(lang))
    mo = (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo").read_bytes()
    assert mo == compiled.getvalue(), f"{lang} messages.mo is stale: {FIX}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_po_has_exactly_the_msgids_the_sources_use(extracted, lang):
    used, listed = keys(extracted), keys(catalogue(lang))
    assert len(used) > 300, "the extraction found too few messages"
    assert not used - listed, f"not in {lang} messages.po ({FIX}): {sorted(used - listed, key=str)}"
    assert not listed - used, f"no longer used ({FIX}): {sorted(listed - used, key=str)}"


def test_every_msgid_has_a_chinese_translation():
    zh = catalogue("zh")
    assert not zh.fuzzy
    untranslated = [m.id for m in zh if m.id and (
        m.fuzzy or not m.string or isinstance(m.string, tuple) and not all(m.string))]
    assert not untranslated, f"untranslated in zh messages.po: {untranslated}"
    problems = [(m.id, errors) for m, errors in zh.check()]
    assert not problems, problems  # e.g. a %(name)s missing from the translation


def test_every_api_error_with_a_message_is_in_the_catalogue(extracted):
    assert {(code, english) for code, english in ENGLISH.items()} <= keys(extracted)


def test_every_status_the_api_reports_has_a_name_on_the_pages():
    """Statuses reach the pages as codes; each needs its own name (a msgid) where it is shown."""
    def named(path: str, values) -> set[str]:
        text = (ROOT / path).read_text()
        return {v for v in values if not re.search(rf"""['"]?\b{v}['"]?\s*:""", text)}

    window_states = ("closed", "idle", "calling", "serving", "paused")
    ticket_statuses = ("waiting", "called", "serving", "done", "no_show", "cancelled")
    assert not named("static/js/common.js", window_states + ticket_statuses)
    assert not named("hall_web/templates/ticket.html", ticket_statuses)
    assert not named("hall_web/templates/routing_slip.html", ITEM_STATUSES)
    assert not named("static/js/backoffice.js", CONSOLE_STATUSES)
    assert not named("static/js/outbox.js", MESSAGE_STATUSES)
    camera_statuses = set(CAMERA_STATUSES) - {"clock"}  # "clock off by N s" is worded apart
    assert not named("static/js/dashboard.js", (*camera_statuses,
                                                 "assign", "open", "move", "auto_mode"))
    assert 'status === "clock"' in (ROOT / "static/js/dashboard.js").read_text()
    assert not named("hall_web/templates/ticket_print.html", set(PRIORITIES) - {"normal"})
    slip = (ROOT / "hall_web/templates/routing_slip.html").read_text()
    assert all(f"'{kind}'" in slip for kind in APPLICANT_KINDS)


# ---------------------------------------------------------------- in use


@pytest.fixture
def client(tmp_path, hall_config, clock):
    """A manager's browser: the kiosk, screens and reports are open to them."""
    app = hall_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'h.db'}")
    yield staff_client(app, "manager")
    app.extensions["hall"].db.dispose()


def script_words(html: str) -> dict:
    page = re.search(r'<script type="application/json" id="hall-page">(.*?)</script>', html)
    return json.loads(page.group(1))["words"]


def test_chinese_by_default_english_on_request_and_remembered(client):
    html = client.get("/clerk").get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "窗口工作台" in html and "Clerk console" not in html
    assert '<a class="lang" href="/clerk?lang=en" lang="en">English</a>' in html
    assert "叫号" in html and "过号" in html

    response = client.get("/clerk?lang=en")
    html = response.get_data(as_text=True)
    assert 'lang="en"' in html and "Clerk console" in html and "窗口工作台" not in html
    assert '<a class="lang" href="/clerk?lang=zh" lang="zh">中文</a>' in html
    assert "lang=en" in response.headers["Set-Cookie"]
    assert "Clerk console" in client.get("/clerk").get_data(as_text=True)  # the cookie
    assert "窗口工作台" in client.get("/clerk?lang=zh").get_data(as_text=True)
    assert "窗口工作台" in client.get("/clerk?lang=fr").get_data(as_text=True)  # cookie is zh now


def test_a_browser_asking_for_english_still_gets_the_chinese_pages(client):
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    html = client.get("/kiosk", headers=english_browser).get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "自助取号" in html


def test_numbers_contexts_and_other_language_words(client, clock):
    ticket = client.post("/api/v1/tickets", json={"service": "enterprise"}).json
    client.post("/api/v1/tickets", json={"service": "enterprise"})
    mine = client.post("/api/v1/tickets", json={"service": "enterprise"}).json
    assert "2 人" in client.get(f"/t/{mine['token']}").get_data(as_text=True)
    english = client.get(f"/t/{mine['token']}?lang=en").get_data(as_text=True)
    assert "2 people" in english and "waiting" in english
    assert "0 people" in client.get(f"/t/{ticket['token']}").get_data(as_text=True)
    kiosk = client.get("/kiosk?lang=zh").get_data(as_text=True)
    assert "<span>周三</span>" in kiosk  # day names from CLDR
    screen = client.get("/screen").get_data(as_text=True)
    assert "正在叫号 <small>Now calling</small>" in screen
    screen = client.get("/screen?lang=en").get_data(as_text=True)
    assert "Now calling <small>正在叫号</small>" in screen
    reports = client.get("/manager/reports?lang=zh").get_data(as_text=True)
    assert "90% 等候（分钟）" in reports  # %% in the catalogue reads as one %


def test_scripts_get_their_words_from_the_catalogue(client):
    zh = script_words(client.get("/clerk").get_data(as_text=True))
    assert zh["Resume"] == "恢复" and zh["Window %(n)s"] == "%(n)s 号窗口"
    assert zh["window state\x04closed"] == "关闭" and zh["ticket status\x04waiting"] == "等候中"
    assert zh["%(num)d person"] == ["%(num)d 人", "%(num)d 人"]
    assert zh["90th pct wait (min)"] == "90%% 等候（分钟）"
    assert "Call next" not in zh  # only what the scripts ask for: the template says that one
    en = script_words(client.get("/clerk?lang=en").get_data(as_text=True))
    assert en["Resume"] == "Resume" and en["window state\x04closed"] == "closed"
    assert en["%(num)d person"] == ["%(num)d person", "%(num)d people"]
    assert zh.keys() == en.keys()


def test_api_errors_speak_the_request_language(client):
    clerks = iter(f"c{n:02d}" for n in range(1, 10))  # one wrong PIN each: none locks

    def login(**headers):
        return client.post("/api/v1/windows/1/login", json={"clerk": next(clerks), "pin": "0000"},
                           headers=headers)

    zh = login()
    assert zh.status_code == 401
    assert zh.json == {"error": "bad_credentials", "message": "账号、密码或PIN错误"}
    assert login(**{"Accept-Language": "zh-CN,zh;q=0.9"}).json["message"] == "账号、密码或PIN错误"
    en = login(**{"Accept-Language": "en-GB,en;q=0.8"}).json
    # English is the domain's own sentence.
    assert en == {"error": "bad_credentials", "message": "unknown login or wrong password"}

    client.get("/kiosk?lang=en")  # the cookie, for an API client that names no language
    assert login().json["message"] == "unknown login or wrong password"
    # The page scripts name their page's language, which wins over the cookie.
    assert login(**{"Accept-Language": "zh"}).json["message"] == "账号、密码或PIN错误"

    missing = client.post("/api/v1/tickets?lang=zh", json={})
    assert missing.status_code == 422
    assert missing.json == {"error": "missing_field", "message": "请填写必填项", "field": "service"}
    # A code without a catalogue entry keeps the domain's English.
    odd = client.get("/api/v1/reports/tickets?from=2026-11-30&to=2026-11-01",
                     headers={"Accept-Language": "zh"})
    assert odd.status_code == 422 and odd.json["error"] not in ENGLISH
    assert re.fullmatch(r"[ -~]+", odd.json["message"])
