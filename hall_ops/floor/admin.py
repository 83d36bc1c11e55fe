"""The admin page's changes to the hall floor: zones, services, windows.

config.toml seeds a new installation (``hall_ops.hall.load_hall``); after that these rows
are the truth and change only here, so a restart never undoes them. Every change writes a
``floor_changes`` row (append-only, hash-chained) naming the admin from the session, with
the values before and after, and records ``QueueChanged`` (and ``WindowChanged`` for a
window): screens get a fresh snapshot carrying the new names and windows at once, kiosks
see them at their next refresh.

Codes and numbers never change (tickets, cases and reports point at them); names, letters,
zones, kinds and default services do. A window is retired (closed for good), never deleted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from hall_ops import events
from hall_ops.cases.catalogue import BOARDS, ServiceItem
from hall_ops.clock import iso_utc
from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.events import QueueChanged, WindowChanged
from hall_ops.floor.models import FloorChange
from hall_ops.hall import next_position
from hall_ops.queue.models import Service, Ticket, Window, WindowDefault, WindowService
from zones import rules_for
from zones.models import Zone

ZONE_CODE = re.compile(r"^[a-z_]{1,32}$")
"""As the ``zone:<code>`` rooms of screens and the scopes of devices allow."""
SERVICE_CODE = re.compile(r"^[a-z0-9_]{1,32}$")
LETTER = re.compile(r"^[A-Z]$")
MINUTES = (0.5, 240.0)
KINDS = ("add_zone", "edit_zone", "add_service", "edit_service", "add_window", "edit_window",
         "retire_window", "reinstate_window")


# ---------------------------------------------------------------- the trail


def _record(session: Session, actor: str, now: dt.datetime, kind: str, subject: str,
            before: dict[str, Any], after: dict[str, Any]) -> None:
    session.add(FloorChange(at=now, actor=actor, origin=session.info.get("origin") or None,
                            kind=kind, subject=subject, before=before, after=after))
    events.record(session, QueueChanged())


def changes(session: Session, *, subject: str | None = None,
            limit: int = 200) -> list[dict[str, Any]]:
    """Newest first: who changed what on the floor, before and after."""
    query = select(FloorChange).order_by(FloorChange.id.desc()).limit(limit)
    if subject is not None:
        query = query.where(FloorChange.subject == subject)
    return [
        {"id": c.id, "at": iso_utc(c.at), "actor": c.actor, "origin": c.origin, "kind": c.kind,
         "subject": c.subject, "before": c.before, "after": c.after}
        for c in session.scalars(query)
    ]


# ---------------------------------------------------------------- checks


def _flush(session: Session, refused: Conflict) -> None:
    """Write now: a second admin adding the same code, number or letter at the same moment
    (PostgreSQL; SQLite serialises writers) gets ``refused``, not a server error."""
    try:
        session.flush()
    except IntegrityError:
        raise refused from None


def _name(value: str, field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= 64:
        raise InvalidInput(f"{field}: 1–64 characters", code="invalid_label", field=field)
    return text


def _zone(session: Session, code: str) -> Zone:
    zone = session.get(Zone, code)
    if zone is None:
        raise InvalidInput(f"no zone {code!r}", code="unknown_zone", field="zone")
    return zone


def _service(session: Session, code: str) -> Service:
    service = session.get(Service, code)
    if service is None:
        raise NotFound(f"no service {code!r}", code="unknown_service")
    return service


def _window(session: Session, number: int) -> Window:
    window = session.scalars(
        select(Window).where(Window.number == number).with_for_update()
    ).first()
    if window is None:
        raise NotFound(f"no window {number}", code="unknown_window")
    return window


def _minutes(value: float) -> float:
    if not MINUTES[0] <= value <= MINUTES[1]:
        raise InvalidInput(f"mean_service_minutes: from {MINUTES[0]} to {MINUTES[1]}",
                           code="invalid_minutes", field="mean_service_minutes")
    return float(value)


def _letter(session: Session, letter: str, code: str, day: dt.date) -> str:
    """A free letter: no other service has it, and none numbered today's tickets with it
    (a number is unique per day: B001 twice would be refused at the kiosk)."""
    if not isinstance(letter, str) or not LETTER.match(letter):
        raise InvalidInput("letter: one capital letter A–Z", code="invalid_letter",
                           field="letter")
    holder = session.scalar(select(Service.code).where(Service.letter == letter,
                                                       Service.code != code))
    if holder is not None:
        raise Conflict(f"letter {letter} is the letter of service {holder!r}",
                       code="letter_taken", field="letter")
    used = session.scalar(
        select(Ticket.origin_service_code)
        .where(Ticket.day == day, Ticket.number.startswith(letter),
               Ticket.origin_service_code != code).limit(1)
    )
    if used is not None:
        raise Conflict(f"letter {letter} numbered tickets of service {used!r} today; "
                       "take it tomorrow", code="letter_used_today", field="letter")
    return letter


def _board(session: Session, board: str | None, code: str | None) -> str | None:
    """A board of the catalogue (or none); the catalogue's items served here agree with it."""
    if board is None:
        return None
    if board not in BOARDS:
        raise InvalidInput(f"board: one of {', '.join(BOARDS)} or none", code="invalid_board",
                           field="board")
    if code is not None:
        other = session.scalar(
            select(ServiceItem.code).where(ServiceItem.service_code == code,
                                           ServiceItem.active, ServiceItem.board != board)
            .limit(1)
        )
        if other is not None:
            raise Conflict(f"catalogue item {other} served here belongs to another board",
                           code="board_mismatch", field="board")
    return board


def _kind(zone: str, kind: str) -> str:
    kinds = rules_for(zone).window_kinds
    if kind not in kinds:
        raise InvalidInput(f"a {kind!r} window cannot stand in zone {zone!r} "
                           f"({', '.join(sorted(kinds))})", code="kind_not_in_zone",
                           field="kind")
    return kind


def _services(session: Session, codes: Iterable[str]) -> list[str]:
    wanted = sorted(set(codes))
    if not wanted:
        raise InvalidInput("a window serves at least one service", code="no_services",
                           field="services")
    known = set(session.scalars(select(Service.code).where(Service.code.in_(wanted))))
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise InvalidInput(f"unknown service(s) {unknown}", code="unknown_service",
                           field="services")
    return wanted


# ---------------------------------------------------------------- zones


def _zone_values(zone: Zone) -> dict[str, Any]:
    return {"name_zh": zone.name_zh, "name_en": zone.name_en}


def add_zone(session: Session, actor: str, code: str, name_zh: str | None,
             name_en: str | None, now: dt.datetime) -> Zone:
    """A zone; a standard zone's names default to the glossary's."""
    if not isinstance(code, str) or not ZONE_CODE.match(code):
        raise InvalidInput("code: 1–32 lower-case letters or _", code="invalid_code",
                           field="code")
    if session.get(Zone, code) is not None:
        raise Conflict(f"zone {code!r} exists", code="zone_exists", field="code")
    rules = rules_for(code)
    zone = Zone(code=code, name_zh=_name(name_zh or rules.name_zh, "name_zh"),
                name_en=_name(name_en or rules.name_en, "name_en"),
                position=next_position(session, Zone.position))
    session.add(zone)
    _flush(session, Conflict(f"zone {code!r} exists", code="zone_exists", field="code"))
    _record(session, actor, now, "add_zone", f"zone:{code}", {}, _zone_values(zone))
    return zone


def edit_zone(session: Session, actor: str, code: str, now: dt.datetime, *,
              name_zh: str | None = None, name_en: str | None = None) -> Zone:
    zone = session.get(Zone, code)
    if zone is None:
        raise NotFound(f"no zone {code!r}", code="unknown_zone")
    before = _zone_values(zone)
    if name_zh is not None:
        zone.name_zh = _name(name_zh, "name_zh")
    if name_en is not None:
        zone.name_en = _name(name_en, "name_en")
    if _zone_values(zone) != before:
        _record(session, actor, now, "edit_zone", f"zone:{code}", before, _zone_values(zone))
    return zone


# ---------------------------------------------------------------- services


def _service_values(service: Service) -> dict[str, Any]:
    return {"letter": service.letter, "name_zh": service.name_zh, "name_en": service.name_en,
            "zone": service.zone_code, "board": service.board,
            "mean_service_minutes": service.mean_service_minutes}


def add_service(session: Session, actor: str, code: str, *, letter: str, name_zh: str,
                name_en: str, zone: str, board: str | None, mean_service_minutes: float,
                now: dt.datetime, day: dt.date) -> Service:
    """A queue service: a kiosk button and a ticket letter (``day``: the hall's today)."""
    if not isinstance(code, str) or not SERVICE_CODE.match(code):
        raise InvalidInput("code: 1–32 lower-case letters, digits or _", code="invalid_code",
                           field="code")
    if session.get(Service, code) is not None:
        raise Conflict(f"service {code!r} exists", code="service_exists", field="code")
    service = Service(
        code=code, letter=_letter(session, letter, code, day),
        name_zh=_name(name_zh, "name_zh"), name_en=_name(name_en, "name_en"),
        zone_code=_zone(session, zone).code, board=_board(session, board, None),
        mean_service_minutes=_minutes(mean_service_minutes),
        position=next_position(session, Service.position),
    )
    session.add(service)
    _flush(session, Conflict(f"service {code!r} or letter {letter} exists",
                             code="service_exists", field="code"))
    _record(session, actor, now, "add_service", f"service:{code}", {},
            _service_values(service))
    return service


def edit_service(session: Session, actor: str, code: str, changes: dict[str, Any],
                 now: dt.datetime, day: dt.date) -> Service:
    """``changes``: any of letter, name_zh, name_en, zone, board (None: no board),
    mean_service_minutes. The names are the hall's own: they override what the shared
    catalogue or config.toml called the service, and no start puts those back."""
    service = _service(session, code)
    before = _service_values(service)
    if "letter" in changes and changes["letter"] != service.letter:
        service.letter = _letter(session, changes["letter"], code, day)
        _flush(session, Conflict(f"letter {service.letter} was just taken",
                                 code="letter_taken", field="letter"))
    for field in ("name_zh", "name_en"):
        if field in changes:
            setattr(service, field, _name(changes[field], field))
    if "zone" in changes:
        service.zone_code = _zone(session, changes["zone"]).code
    if "board" in changes:
        service.board = _board(session, changes["board"], code)
    if "mean_service_minutes" in changes:
        service.mean_service_minutes = _minutes(changes["mean_service_minutes"])
    after = _service_values(service)
    if after != before:
        _record(session, actor, now, "edit_service", f"service:{code}",
                {k: v for k, v in before.items() if after[k] != v},
                {k: v for k, v in after.items() if before[k] != v})
    return service


# ---------------------------------------------------------------- windows


def _window_values(window: Window) -> dict[str, Any]:
    return {"zone": window.zone_code, "kind": window.kind, "services": window.default_codes}


def _changed_window(session: Session, actor: str, now: dt.datetime, kind: str,
                    window: Window, before: dict[str, Any], after: dict[str, Any]) -> None:
    _record(session, actor, now, kind, f"window:{window.number}", before, after)
    events.record(session, WindowChanged(window.number))


def add_window(session: Session, actor: str, number: int, zone: str, kind: str,
               services: Sequence[str], now: dt.datetime) -> Window:
    """A new window, closed until a clerk logs in; it serves ``services`` by default."""
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 9999:
        raise InvalidInput("number: 1–9999", code="invalid_number", field="number")
    if session.get(Window, number) is not None:
        raise Conflict(f"window {number} exists", code="window_exists", field="number")
    codes = _services(session, services)
    window = Window(number=number, state="closed", zone_code=_zone(session, zone).code,
                    kind=_kind(zone, kind))
    window.defaults = [WindowDefault(service_code=c) for c in codes]
    window.assignments = [WindowService(service_code=c) for c in codes]
    session.add(window)
    _flush(session, Conflict(f"window {number} exists", code="window_exists", field="number"))
    _changed_window(session, actor, now, "add_window", window, {}, _window_values(window))
    return window


def edit_window(session: Session, actor: str, number: int, now: dt.datetime, *,
                zone: str | None = None, kind: str | None = None,
                services: Sequence[str] | None = None) -> Window:
    """Move a window to another zone, change its kind or its default services. A closed
    window also takes the new services as its current assignment; an open one keeps what
    the manager or auto mode gave it until its clerk logs out and the next one logs in."""
    window = _window(session, number)
    if window.retired_at is not None:
        raise Conflict(f"window {number} is retired; reinstate it first",
                       code="window_retired")
    before = _window_values(window)
    new_zone = _zone(session, zone).code if zone is not None else window.zone_code
    new_kind = kind if kind is not None else window.kind
    if (new_zone, new_kind) != (window.zone_code, window.kind):
        window.zone_code, window.kind = new_zone, _kind(new_zone, new_kind)
    if services is not None:
        codes = _services(session, services)
        if codes != window.default_codes:
            kept_defaults = {d.service_code: d for d in window.defaults}
            window.defaults = [kept_defaults.get(c) or WindowDefault(service_code=c)
                               for c in codes]
            if window.state == "closed":  # unchanged defaults leave a manager's plan alone
                kept = {a.service_code: a for a in window.assignments}
                window.assignments = [kept.get(c) or WindowService(service_code=c)
                                      for c in codes]
    session.flush()
    after = _window_values(window)
    if after != before:
        _changed_window(session, actor, now, "edit_window", window, before, after)
    return window


def retire_window(session: Session, actor: str, number: int, now: dt.datetime) -> Window:
    """Close a window for good: not while a ticket is in hand there, nor while a clerk is
    logged in (they log out first, which hands tickets sent to this window back)."""
    window = _window(session, number)
    if window.retired_at is not None:
        raise Conflict(f"window {number} is retired already", code="window_retired")
    if window.current_ticket_id is not None:
        raise Conflict(f"window {number} is serving a ticket", code="window_busy")
    if window.clerk_id is not None or window.state != "closed":
        raise Conflict(f"a clerk is logged in at window {number}; they log out first",
                       code="window_open")
    window.retired_at = now
    _changed_window(session, actor, now, "retire_window", window, {"retired": False},
                    {"retired": True})
    return window


def reinstate_window(session: Session, actor: str, number: int, now: dt.datetime) -> Window:
    """A retired window back in service (closed until a clerk logs in)."""
    window = _window(session, number)
    if window.retired_at is None:
        raise Conflict(f"window {number} is in service", code="window_in_service")
    window.retired_at = None
    _changed_window(session, actor, now, "reinstate_window", window, {"retired": True},
                    {"retired": False})
    return window


# ---------------------------------------------------------------- the page's view


def floor_view(session: Session) -> dict[str, Any]:
    """Everything the admin page lists: zones (with the window kinds each allows), services
    (with how many catalogue items they serve), windows (retired ones too), the boards."""
    items = dict(session.execute(
        select(ServiceItem.service_code, func.count()).where(ServiceItem.active)
        .group_by(ServiceItem.service_code)
    ).all())
    return {
        "zones": [
            {"code": z.code, "name_zh": z.name_zh, "name_en": z.name_en,
             "citizen_facing": rules_for(z.code).citizen_facing,
             "window_kinds": sorted(rules_for(z.code).window_kinds)}
            for z in session.scalars(select(Zone).order_by(Zone.position, Zone.code))
        ],
        "services": [
            {"code": s.code, **_service_values(s), "catalogue_items": items.get(s.code, 0)}
            for s in session.scalars(select(Service).order_by(Service.position, Service.code))
        ],
        "windows": [
            {"number": w.number, **_window_values(w), "current": w.service_codes,
             "state": w.state, "retired_at": iso_utc(w.retired_at)}
            for w in session.scalars(
                select(Window).order_by(Window.number)
                .options(selectinload(Window.defaults), selectinload(Window.assignments))
            )
        ],
        "boards": [{"code": code, "name_zh": name} for code, name in BOARDS.items()],
    }
