"""Kiosk tickets printed straight to an ESC/POS thermal printer on the network (TCP 9100).

Each ``[[printers]]`` entry of config.toml is bound to a kiosk device scope (``hall``,
``zone:<code>``); a kiosk with no printer keeps printing through the browser. The slip is
built with python-escpos: its text commands, its native QR code (``GS ( k``), its cut. The
Chinese text goes as GB18030 bytes in the printer's Chinese character mode (``FS &``):
python-escpos's text encoder knows single-byte code pages only.

Before a ticket is issued the kiosk asks the printer's paper sensor (real-time status
``DLE EOT 4``) and refuses while the paper is out, so nobody gets a number they cannot hold.
Every answer (and a periodic check) is recorded in ``printer_statuses``: the manager's
dashboard turns paper out, near its end or a printer not answering into an alert.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from escpos.constants import RT_STATUS_PAPER
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy, Network
from sqlalchemy import DateTime, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from hall_ops.clock import iso_utc
from hall_ops.config import ConfigError
from hall_ops.db import Base

CHINESE_ON = b"\x1c\x26"  # FS &: Chinese (Kanji) character mode
CHINESE_OFF = b"\x1c\x2e"  # FS .
PAPER = ("ok", "low", "out", "offline")


@dataclass(frozen=True)
class PrinterConfig:
    name: str
    host: str
    scope: str
    """The kiosk device scope it serves: ``hall`` or ``zone:<code>``."""
    port: int = 9100
    timeout_seconds: float = 5.0


class PrinterStatus(Base):
    """The last thing a printer's paper sensor said (or that it did not answer), and when."""

    __tablename__ = "printer_statuses"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    paper: Mapped[str] = mapped_column(String(16))
    """ok, low (near its end), out, or offline (no answer)."""
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)


@dataclass(frozen=True)
class Slip:
    """What one ticket slip says, already in the kiosk's language (the web edge translates)."""

    title: str
    number: str
    lines: Sequence[str]
    qr_url: str
    footer: Sequence[str]


def printers_from_config(sections: Any) -> tuple[PrinterConfig, ...]:
    """``[[printers]]`` (checked by ``hall_ops.config_file``); names and scopes are unique."""
    printers = tuple(PrinterConfig(p.name, p.host, p.scope, p.port, p.timeout_seconds)
                     for p in sections.printers)
    for what in ("name", "scope"):
        values = [getattr(p, what) for p in printers]
        if len(set(values)) != len(values):
            raise ConfigError(f"printers: two printers with one {what}")
    return printers


def printer_for(printers: Sequence[PrinterConfig], scope: str | None) -> PrinterConfig | None:
    """The printer of a kiosk of ``scope``; none: the kiosk prints through the browser."""
    return next((p for p in printers if scope is not None and p.scope == scope), None)


def paper_of(status: int) -> str:
    """``DLE EOT 4`` answer: bits 5–6 paper end, bits 2–3 paper near its end."""
    if status & 0x60:
        return "out"
    if status & 0x0C:
        return "low"
    return "ok"


def _open(printer: PrinterConfig) -> Network:
    device = Network(printer.host, printer.port, timeout=printer.timeout_seconds)
    device.open()
    return device


def query_paper(printer: PrinterConfig) -> tuple[str, str | None]:
    """(paper, error): asks the paper sensor over TCP; no answer is ``offline``, not ok."""
    try:
        device = _open(printer)
    except (DeviceNotFoundError, OSError) as exc:
        return "offline", str(exc)[:300]
    try:
        reply = device.query_status(RT_STATUS_PAPER)
    except OSError as exc:
        return "offline", str(exc)[:300]
    finally:
        device.close()
    if not reply:
        return "offline", "no answer to DLE EOT 4"
    return paper_of(reply[0]), None


def _chinese(device: Dummy, text: str) -> None:
    device._raw(CHINESE_ON + text.encode("gb18030") + b"\n" + CHINESE_OFF)


def slip_bytes(slip: Slip) -> bytes:
    """The ESC/POS job of one slip: centred title, the number large, facts, QR code, cut."""
    device = Dummy()
    device.hw("INIT")
    device.set(align="center")
    _chinese(device, slip.title)
    device.set(align="center", bold=True, double_width=True, double_height=True)
    _chinese(device, slip.number)
    device.set(align="center", normal_textsize=True)
    for line in slip.lines:
        _chinese(device, line)
    device.qr(slip.qr_url, native=True, size=6)
    for line in slip.footer:
        _chinese(device, line)
    device.cut()
    return bytes(device.output)


class PrinterError(Exception):
    """The printer could not be reached or took the job only in part."""


def send(printer: PrinterConfig, job: bytes) -> None:
    """Write the job to the printer; raises ``PrinterError``."""
    try:
        device = _open(printer)
        try:
            device._raw(job)
        finally:
            device.close()
    except (DeviceNotFoundError, OSError) as exc:
        raise PrinterError(f"{printer.name} ({printer.host}:{printer.port}): {exc}") from exc


def record_status(session: Session, printer: PrinterConfig, paper: str, error: str | None,
                  now: dt.datetime) -> None:
    row = session.get(PrinterStatus, printer.name)
    if row is None:
        row = PrinterStatus(name=printer.name)
        session.add(row)
    row.scope, row.paper, row.checked_at, row.error = printer.scope, paper, now, error


def statuses(session: Session, printers: Sequence[PrinterConfig]) -> list[dict[str, object]]:
    """The configured printers' last known state (never checked: ``unknown``)."""
    rows = {r.name: r for r in session.scalars(select(PrinterStatus))}
    out: list[dict[str, object]] = []
    for p in printers:
        row = rows.get(p.name)
        out.append({"name": p.name, "scope": p.scope,
                    "paper": row.paper if row else "unknown",
                    "checked_at": iso_utc(row.checked_at) if row else None,
                    "error": row.error if row else None})
    return out
