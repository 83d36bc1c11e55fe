"""Kiosk tickets on an ESC/POS network printer: a real TCP listener plays the printer
(``tests/support/escpos_printer.py``), keeps the bytes and answers the paper sensor."""

from __future__ import annotations

import time
import tomllib

import pytest
from sqlalchemy import func, select

from hall_ops import printing
from hall_ops.config import ConfigError, parse_config
from hall_ops.floor.alerts import build_alerts
from hall_ops.queue.models import Ticket
from tests.conftest import OPEN_NOW, ROOT
from tests.support.escpos_printer import EscposPrinterStub
from tests.support.server import free_port
from tests.support.web import device_client, hall_app, staff_client

SERVICE_ZH = "政府投资项目"  # the investment service of config.toml
GS_QR = b"\x1d(k"  # GS ( k: the printer draws the QR code itself


@pytest.fixture
def printer():
    stub = EscposPrinterStub()
    yield stub
    stub.close()


def config(port: int) -> printing.PrinterConfig:
    return printing.PrinterConfig("kiosk-1", "127.0.0.1", "hall", port, timeout_seconds=2)


def test_the_paper_sensor_is_read_over_tcp(printer):
    for paper in ("ok", "low", "out"):
        printer.paper = paper
        assert printing.query_paper(config(printer.port)) == (paper, None)
    assert printer.jobs[-1] == b"\x10\x04\x04"  # DLE EOT 4, nothing else
    paper, error = printing.query_paper(config(free_port()))  # nothing listens there
    assert paper == "offline" and error


def test_the_slip_is_gb18030_chinese_with_the_number_and_a_qr_code():
    job = printing.slip_bytes(printing.Slip("市民中心", "A012", ["前面还有 3 人"],
                                            "http://hall/t/abc", ["扫码查看排队进度"]))
    assert b"A012" in job and "前面还有 3 人".encode("gb18030") in job
    assert "扫码查看排队进度".encode("gb18030") in job and b"\x1c&" in job  # FS &: Chinese mode
    url = b"http://hall/t/abc"  # GS ( k pL pH cn=1 fn=P(store) m=0 data, then fn=Q (print)
    assert GS_QR + bytes([len(url) + 3, 0]) + b"1P0" + url in job and GS_QR + b"\x03\x001Q0" in job
    assert "前面".encode() not in job  # not UTF-8


def printing_app(tmp_path, port: int | None):
    raw = tomllib.loads((ROOT / "config.toml").read_text())
    if port is not None:
        raw["printers"] = [{"name": "kiosk-1", "host": "127.0.0.1", "port": port,
                            "scope": "hall", "timeout_seconds": 2}]
    return hall_app(parse_config(raw, ROOT), database_url=f"sqlite:///{tmp_path / 'h.db'}",
                    clock=lambda: OPEN_NOW, always_open=True)


def tickets(app) -> int:
    with app.extensions["hall"].db.read() as s:
        return s.scalar(select(func.count()).select_from(Ticket)) or 0


def test_the_kiosk_prints_on_its_printer_and_refuses_when_the_paper_is_out(tmp_path, printer):
    app = printing_app(tmp_path, printer.port)
    kiosk = device_client(app, "hall", "kiosk")
    assert kiosk.get("/api/v1/kiosk/printer").json == {"printer": "kiosk-1", "paper": "ok"}
    answer = kiosk.post("/api/v1/kiosk/tickets", json={"service": "investment"})
    assert answer.status_code == 201 and answer.json["printed"] is True
    deadline = time.monotonic() + 5
    while not printer.printed and time.monotonic() < deadline:
        time.sleep(0.02)
    (job,) = printer.printed
    assert answer.json["number"].encode() in job
    assert SERVICE_ZH.encode("gb18030") in job and GS_QR in job
    assert answer.json["status_url"].encode() in job

    printer.paper = "out"
    before = tickets(app)
    refused = kiosk.post("/api/v1/kiosk/tickets", json={"service": "investment"})
    assert refused.status_code == 409 and refused.json["error"] == "printer_out_of_paper"
    assert tickets(app) == before  # no ticket nobody can hold
    assert len(printer.printed) == 1
    alerts = staff_client(app, "manager").get("/api/v1/dashboard/alerts").json["alerts"]
    (alert,) = [a for a in alerts if a["kind"] == "printer"]
    assert (alert["printer"], alert["paper"], alert["severity"]) == ("kiosk-1", "out",
                                                                      "critical")

    printer.paper = "ok"
    assert kiosk.get("/api/v1/kiosk/printer").json["paper"] == "ok"
    alerts = staff_client(app, "manager").get("/api/v1/dashboard/alerts").json["alerts"]
    assert [a for a in alerts if a["kind"] == "printer"] == []
    app.extensions["hall"].db.dispose()


def test_a_printer_that_does_not_answer_issues_no_ticket(tmp_path):
    app = printing_app(tmp_path, free_port())
    kiosk = device_client(app, "hall", "kiosk")
    refused = kiosk.post("/api/v1/kiosk/tickets", json={"service": "investment"})
    assert refused.status_code == 409 and refused.json["error"] == "printer_offline"
    assert tickets(app) == 0
    app.extensions["hall"].db.dispose()


def test_without_a_printer_the_browser_prints(tmp_path):
    app = printing_app(tmp_path, None)
    kiosk = device_client(app, "hall", "kiosk")
    assert kiosk.get("/api/v1/kiosk/printer").json == {"printer": None, "paper": None}
    answer = kiosk.post("/api/v1/kiosk/tickets", json={"service": "investment"})
    assert answer.status_code == 201 and answer.json["printed"] is False
    assert 'data-printer="browser"' in kiosk.get("/kiosk").get_data(as_text=True)
    app.extensions["hall"].db.dispose()


def test_printer_alert_rules_and_config():
    snapshot = {"services": []}
    rows = [{"name": n, "scope": "hall", "paper": p, "checked_at": "2026-11-25T02:00:00Z"}
            for n, p in (("a", "ok"), ("b", "low"), ("c", "out"), ("d", "offline"),
                         ("e", "unknown"))]
    alerts = build_alerts(snapshot, (), None, 15, printers=rows)
    assert [(a["printer"], a["severity"]) for a in alerts] == [
        ("b", "warning"), ("c", "critical"), ("d", "warning")]
    raw = tomllib.loads((ROOT / "config.toml").read_text())
    raw["printers"] = [{"name": "p", "host": "10.0.0.9", "scope": "hall"},
                       {"name": "q", "host": "10.0.0.8", "scope": "hall"}]
    with pytest.raises(ConfigError):
        printing.printers_from_config(parse_config(raw, ROOT).sections)


def test_the_printer_watch_job_records_the_paper_for_the_dashboard(tmp_path, printer):
    from hall_web.jobs import PrinterWatch

    app = printing_app(tmp_path, printer.port)
    watch = PrinterWatch(app.extensions["hall"])
    manager = staff_client(app, "manager")
    printer.paper = "low"
    watch()
    (alert,) = [a for a in manager.get("/api/v1/dashboard/alerts").json["alerts"]
                if a["kind"] == "printer"]
    assert (alert["paper"], alert["severity"], alert["scope"]) == ("low", "warning", "hall")
    printer.close()  # the printer is switched off
    watch()
    (alert,) = [a for a in manager.get("/api/v1/dashboard/alerts").json["alerts"]
                if a["kind"] == "printer"]
    assert alert["paper"] == "offline"
    app.extensions["hall"].db.dispose()
