"""Pages through the Flask test client: languages, QR codes, offline assets, print layout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hall_web.app import ROOT, create_app

PAGES = ["/", "/kiosk", "/screen", "/screen?zone=front_intake", "/screen?window=7", "/clerk",
         "/manager"]


@pytest.fixture
def app(tmp_path, hall_config, clock):
    app = create_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'h.db'}",
                     secret_key="test")
    yield app
    app.extensions["hall"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.mark.parametrize("path", PAGES)
def test_pages_speak_chinese_first_and_english_on_request(client, path):
    zh = client.get(path)
    assert zh.status_code == 200 and 'lang="zh-CN"' in zh.get_data(as_text=True)
    assert "市民中心行政服务大厅" in zh.get_data(as_text=True)
    en = client.get(path + ("&" if "?" in path else "?") + "lang=en")
    assert 'lang="en"' in en.get_data(as_text=True)
    assert "Citizen Centre" in en.get_data(as_text=True)
    assert "lang=en" in en.headers.get("Set-Cookie", "")


def test_language_is_remembered(client):
    client.get("/kiosk?lang=en")
    assert 'lang="en"' in client.get("/kiosk").get_data(as_text=True)


def test_unknown_zone_screen_is_404(client):
    assert client.get("/screen?zone=moon").status_code == 404


@pytest.mark.parametrize("path", PAGES + ["/tickets/{token}/print", "/t/{token}"])
def test_no_page_loads_anything_from_outside(client, path):
    token = client.post("/api/v1/tickets", json={"service": "enterprise"}).json["token"]
    html = client.get(path.format(token=token)).get_data(as_text=True)
    external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', html)
    assert external == []
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset


def test_ticket_pages_qr_and_80mm_print(client):
    ticket = client.post("/api/v1/tickets", json={"service": "enterprise"}).json
    qr = client.get(ticket["qr_url"])
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    printed = client.get(ticket["print_url"]).get_data(as_text=True)
    assert ticket["number"] in printed and "print.css" in printed
    css = (ROOT / "static" / "css" / "print.css").read_text()
    assert "size: 80mm auto" in css
    page = client.get(f"/t/{ticket['token']}").get_data(as_text=True)
    assert ticket["number"] in page
    assert client.get("/qr/unknown.svg").status_code == 404
    assert client.get("/t/unknown").status_code == 404


def test_announcement_clips_exist_for_every_word_a_call_needs():
    audio = ROOT / "static" / "audio"
    names = {p.stem for p in audio.glob("*.wav")}
    needed = {"chime", "qing", "hao", "dao", "chuangkou", "shi"} | {f"d{i}" for i in range(10)}
    assert needed <= names
    letters = {f"l{s['letter']}" for s in __import__("tomllib").loads(
        (ROOT / "config.toml").read_text())["services"]}
    assert letters <= names
    assert sum(p.stat().st_size for p in audio.glob("*.wav")) < 2 * 1024 * 1024


def test_vendored_socketio_client_is_there():
    vendor = Path(ROOT / "static" / "vendor")
    assert (vendor / "socket.io.min.js").stat().st_size > 10_000
    assert (vendor / "socket.io.LICENSE").exists()
