"""Pages through the Flask test client: languages, QR codes, offline assets, print slip, clips."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tomllib
import wave
import xml.etree.ElementTree as ET

import pytest

from hall_web.error_messages import ENGLISH
from tests.conftest import ROOT, StepClock
from tests.support.services import service_missing
from tests.support.web import device_client, hall_app, staff_client

PAGES = ["/", "/kiosk", "/screen", "/screen?zone=front_intake", "/screen?window=7", "/clerk",
         "/manager", "/t/{token}", "/tickets/{token}/print"]
TEMPLATES = ROOT / "hall_web" / "templates"
STATIC = ROOT / "static"


@pytest.fixture
def app(tmp_path, hall_config, clock):
    app = hall_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'h.db'}")
    yield app
    app.extensions["hall"].db.dispose()


@pytest.fixture
def client(app):
    """A manager: besides the citizens' pages, they may open kiosk and screen pages."""
    return staff_client(app, "manager")


@pytest.fixture
def ticket(client):
    response = client.post("/api/v1/tickets", json={"service": "enterprise"})
    assert response.status_code == 201
    return response.json


def _with_lang(path: str, lang: str) -> str:
    return path + ("&" if "?" in path else "?") + "lang=" + lang


@pytest.mark.parametrize("path", PAGES)
def test_pages_speak_chinese_first_and_english_on_request(client, ticket, path):
    path = path.format(token=ticket["token"])
    zh = client.get(path)
    assert zh.status_code == 200
    html = zh.get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "市民中心行政服务大厅" in html
    en = client.get(_with_lang(path, "en"))
    assert en.status_code == 200
    html = en.get_data(as_text=True)
    assert 'lang="en"' in html and "Citizen Centre" in html and "市民中心" not in html
    assert "lang=en" in en.headers.get("Set-Cookie", "")


def test_language_is_remembered_and_the_switch_keeps_the_page(client):
    client.get("/kiosk?lang=en")
    assert 'lang="en"' in client.get("/kiosk").get_data(as_text=True)
    html = client.get("/manager?lang=zh").get_data(as_text=True)
    assert 'href="/manager?lang=en"' in html
    # A zone screen switched to English is still that zone's screen.
    html = client.get("/screen?zone=front_intake").get_data(as_text=True)
    assert "前台受理区" in html
    assert 'data-room="zone:front_intake"' in html
    html = client.get("/screen?zone=front_intake&lang=en").get_data(as_text=True)
    assert "Front intake" in html and 'data-room="zone:front_intake"' in html


def test_screens_exist_only_for_real_zones_and_windows(client):
    assert client.get("/screen?zone=moon").status_code == 404
    assert client.get("/screen?window=999").status_code == 404
    assert client.get("/screen?window=seven").status_code == 404
    assert 'data-room="window:7"' in client.get("/screen?window=7").get_data(as_text=True)
    assert 'data-room="hall"' in client.get("/screen").get_data(as_text=True)


def test_index_links_every_page_and_every_zone_screen(client, hall_config):
    html = client.get("/").get_data(as_text=True)
    for href in ("/kiosk", "/screen", "/clerk", "/manager"):
        assert f'href="{href}"' in html
    assert 'href="/screen?zone=front_intake"' in html
    assert 'href="/screen?zone=back_approval"' not in html  # no citizen is called there
    assert f'href="/screen?window={hall_config.windows[-1].number}"' in html


def test_kiosk_says_when_the_hall_is_closed(tmp_path, hall_config):
    sunday = StepClock(dt.datetime(2026, 11, 29, 2, 0))  # Sunday 10:00 in Shanghai
    app = hall_app(hall_config, clock=sunday, database_url=f"sqlite:///{tmp_path / 'c.db'}")
    try:
        html = device_client(app, "hall", "kiosk").get("/kiosk").get_data(as_text=True)
    finally:
        app.extensions["hall"].db.dispose()
    closed = re.search(r'<div id="closed" class="notice"\s*([^>]*)>', html)
    assert closed and "hidden" not in closed.group(1)
    assert "08:30–17:30" in html and "休息" in html
    assert re.search(r'data-zone="front_intake"\s+disabled', html)


def test_kiosk_hides_the_closed_notice_when_open(client):
    html = client.get("/kiosk").get_data(as_text=True)
    assert re.search(r'<div id="closed" class="notice"\s*hidden', html)
    assert not re.search(r'data-zone="front_intake"\s+disabled', html)


@pytest.mark.parametrize("path", PAGES)
def test_no_page_loads_anything_from_outside(client, ticket, path):
    html = client.get(path.format(token=ticket["token"])).get_data(as_text=True)
    external = re.findall(r'(?:src|href|action)="((?:https?:)?//[^"]+)"', html)
    assert external == []
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


STAFF_PAGES = ["/manager/dashboard", "/manager/reports", "/backoffice", "/admin/outbox",
               "/admin/staff", "/login"]


@pytest.mark.parametrize("path", PAGES + STAFF_PAGES)
def test_no_page_has_inline_script(app, ticket, path):
    """The Content-Security-Policy allows no inline script: data goes in JSON blocks, handlers
    in static scripts, and the CSRF token in a meta tag for the pages' api()."""
    client = staff_client(app, "admin" if path.startswith("/admin") else "manager")
    if path == "/backoffice":
        client = staff_client(app, "appr-scj")
    response = client.get(path.format(token=ticket["token"]))
    assert response.status_code == 200, path
    html = response.get_data(as_text=True)
    for attributes in re.findall(r"<script([^>]*)>", html):
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "inline event handler"
    if path != "/tickets/{token}/print":
        assert re.search(r'<meta name="csrf-token" content="[^"]+">', html)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("script-src")[1][:20]


def test_our_scripts_and_styles_reach_for_nothing_outside():
    for path in [*STATIC.glob("js/*.js"), *STATIC.glob("css/*.css")]:
        text = path.read_text()
        assert not re.search(r"https?://|url\(\s*['\"]?//", text), path
        assert "@import" not in text, path


def test_ticket_qr_is_our_own_svg(client, ticket):
    qr = client.get(ticket["qr_url"])
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    root = ET.fromstring(qr.data)
    assert root.tag.endswith("svg")
    other = client.post("/api/v1/tickets", json={"service": "enterprise"}).json
    assert client.get(other["qr_url"]).data != qr.data  # each ticket its own code
    assert client.get("/qr/unknown.svg").status_code == 404


def test_ticket_status_page(client, ticket):
    page = client.get(f"/t/{ticket['token']}").get_data(as_text=True)
    assert ticket["number"] in page and "等候中" in page and "取消排队" in page
    assert f'data-token="{ticket["token"]}"' in page
    assert client.get("/t/unknown").status_code == 404


def test_print_page_is_an_80mm_slip_in_hall_time(client, ticket):
    printed = client.get(ticket["print_url"]).get_data(as_text=True)
    assert ticket["number"] in printed and "企业登记" in printed
    assert "print.css" in printed and 'data-print="now"' in printed and "js/print.js" in printed
    assert f"/qr/{ticket['token']}.svg" in printed
    assert "2026-11-25 10:00" in printed  # taken 02:00 UTC, printed in Shanghai time
    css = (STATIC / "css" / "print.css").read_text()
    assert re.search(r"@page\s*\{[^}]*size:\s*80mm auto", css)
    assert client.get("/tickets/unknown/print").status_code == 404


def test_translated_errors_are_codes_the_hall_really_uses():
    files = [*ROOT.glob("hall_ops/**/*.py"), *ROOT.glob("hall_web/*.py")]
    source = "".join(p.read_text() for p in files)
    raised = set(re.findall(r'\bcode\s*=\s*"([a-z_]+)"', source))
    assert set(ENGLISH) <= raised


def test_announcement_clips_cover_every_call_and_stay_small(hall_config):
    audio = STATIC / "audio"
    names = {p.stem for p in audio.glob("*.wav")}
    needed = {"chime", "qing", "hao", "dao", "chuangkou", "shi"} | {f"d{i}" for i in range(10)}
    services = tomllib.loads((ROOT / "config.toml").read_text())["services"]
    needed |= {f"l{s['letter']}" for s in services}
    assert needed <= names
    for path in audio.glob("*.wav"):
        with wave.open(str(path)) as clip:
            assert (clip.getnchannels(), clip.getframerate()) == (1, 16000), path
            seconds = clip.getnframes() / clip.getframerate()
            assert 0.1 < seconds < 2.0, (path, seconds)
    assert sum(p.stat().st_size for p in audio.glob("*.wav")) < 2 * 1024 * 1024


def test_clip_words_are_read_as_mandarin_not_english():
    """espeak-ng's plain cmn voice reads 请 as English "king three"; make_audio.py must not."""
    import importlib.util

    if shutil.which("espeak-ng") is None:
        service_missing("espeak-ng is not installed (./hall test installs it)")

    spec = importlib.util.spec_from_file_location("make_audio", ROOT / "scripts" / "make_audio.py")
    make_audio = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_audio)
    for word in ("请", "号", "到", "号窗口", "零一二三四五六七八九", "十"):
        heard = make_audio.phonemes(word)
        assert heard and "(en)" not in heard, (word, heard)


def test_vendored_browser_libraries_are_there_with_licences():
    vendor = STATIC / "vendor"
    socket_io = (vendor / "socket.io.min.js").read_text()
    assert socket_io.startswith("/*!\n * Socket.IO v4.")
    assert (vendor / "socket.io.LICENSE").read_text().startswith("The MIT License")
    assert (vendor / "chart.umd.min.js").stat().st_size > 10_000
    assert (vendor / "chart.js.LICENSE.md").exists()
    readme = (vendor / "README.md").read_text()
    version = re.search(r"Socket\.IO v(\S+)", socket_io).group(1)
    assert f"socket.io-client {version}" in readme
    assert f"socket.io-client@{version}" in (ROOT / "scripts" / "vendor_assets.sh").read_text()


def test_service_guide_lists_what_to_bring(client):
    page = client.get("/guide/real_estate").get_data(as_text=True)
    assert "BDC-01" in page and "不动产权证书" in page and "必须提交" in page
    assert "Deed tax" in client.get("/guide/real_estate?lang=en").get_data(as_text=True)
    assert client.get("/guide/nope").status_code == 404
    token = client.post("/api/v1/tickets", json={"service": "real_estate"}).json["token"]
    assert "/guide/real_estate" in client.get(f"/t/{token}").get_data(as_text=True)
