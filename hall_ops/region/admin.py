"""The halls admin: add a hall, rename it, disable or enable it, move it in the hierarchy.

Changes go to the ``halls`` table of the deployment's database (``hall_ops.region.models``),
each with its ``hall_changes`` row naming the actor the caller took from the session. An
admin acts inside what their grants cover (``hall_ops.region.access``): the node changed,
and for an added or moved one its parent too. The hierarchy stays what ``check_hierarchy``
accepts: a parent above its child's level, no cycle, a floor somewhere; a node with enabled
children is not disabled (they would hang from nothing).

A new hall takes the config file of a hall chosen as its template (its zones, services,
windows, opening hours); its database is made and seeded when its app starts
(``hall_web.deployment.mount_hall``), as any hall's at any start.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall_ops.clock import iso_utc
from hall_ops.config import ConfigError
from hall_ops.errors import Conflict, Forbidden, InvalidInput, NotFound
from hall_ops.region.access import subtree
from hall_ops.region.changes import HallChange
from hall_ops.region.deployment import HALL_CODE, check_hierarchy
from hall_ops.region.directory import LEVELS, HallRef
from hall_ops.region.models import RegionHall

NAME_LONGEST = 120


def hall_view(row: RegionHall) -> dict[str, Any]:
    return {"code": row.code, "name_zh": row.name_zh, "name_en": row.name_en,
            "level": row.level, "parent": row.parent_code, "floor": row.config_path is not None,
            "enabled": row.enabled, "position": row.position}


def all_halls(session: Session) -> list[dict[str, Any]]:
    """Every node, disabled ones too, parents before children (then by position)."""
    rows = list(session.scalars(select(RegionHall)))
    children: dict[str | None, list[RegionHall]] = {}
    for row in rows:
        children.setdefault(row.parent_code, []).append(row)
    ordered: list[dict[str, Any]] = []

    def walk(parent: str | None) -> None:
        for row in sorted(children.get(parent, []), key=lambda r: (r.position, r.code)):
            ordered.append(hall_view(row))
            walk(row.code)

    walk(None)
    return ordered


def covered(session: Session, granted: Collection[str]) -> set[str]:
    """The nodes an admin whose grants name ``granted`` may change: those and every node
    below them in the table, disabled ones too (so a disabled hall can be enabled again)."""
    return subtree([HallRef(r.code, r.name_zh, r.name_en, r.level, r.parent_code)
                    for r in session.scalars(select(RegionHall))], granted)


def changes(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """Newest first: who changed which hall, from where, before and after."""
    return [{"id": c.id, "at": iso_utc(c.at), "actor": c.actor, "origin": c.origin,
             "kind": c.kind, "hall": c.hall, "before": c.before, "after": c.after}
            for c in session.scalars(select(HallChange).order_by(HallChange.id.desc())
                                     .limit(limit))]


def _record(session: Session, actor: str, now: dt.datetime, kind: str, hall: str,
            before: dict[str, Any], after: dict[str, Any]) -> None:
    session.add(HallChange(at=now, actor=actor, origin=session.info.get("origin") or None,
                           kind=kind, hall=hall, before=before, after=after))


def hall(session: Session, code: str) -> RegionHall:
    found = session.get(RegionHall, code)
    if found is None:
        raise NotFound(f"no hall {code!r}", code="unknown_hall")
    return found


def _row(session: Session, code: str) -> RegionHall:
    row = session.get(RegionHall, code, with_for_update=True)
    if row is None:
        raise NotFound(f"no hall {code!r}", code="unknown_hall")
    return row


def _inside(covered: Collection[str], *codes: str | None) -> None:
    for code in codes:
        if code not in covered:
            raise Forbidden(f"{code or 'the top of the hierarchy'} is outside your region",
                            code="outside_region")


def _name(value: str, field: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned or len(cleaned) > NAME_LONGEST:
        raise InvalidInput(f"{field}: 1 to {NAME_LONGEST} characters", code="invalid_name",
                           field=field)
    return cleaned


def _check(session: Session) -> None:
    """The enabled hierarchy after the change, as the deployment reads it."""
    session.flush()
    try:
        check_hierarchy(session.scalars(select(RegionHall).where(RegionHall.enabled)))
    except ConfigError as exc:
        raise InvalidInput(str(exc).removeprefix("halls"), code="invalid_hierarchy") from exc


def add_hall(session: Session, actor: str, covered: Collection[str], *, code: str,
             name_zh: str, name_en: str, level: str, parent: str, template: str,
             now: dt.datetime) -> RegionHall:
    """A new hall under ``parent`` with the config of hall ``template``."""
    if not re.fullmatch(HALL_CODE.strip("^$"), code):
        raise InvalidInput("code: a to z, 0 to 9 and _, at most 32", code="invalid_code",
                           field="code")
    if level not in LEVELS:
        raise InvalidInput(f"level is one of {LEVELS}", code="invalid_level", field="level")
    _inside(covered, parent)
    if session.get(RegionHall, code) is not None:
        raise Conflict(f"a hall {code!r} exists already (disabled halls too)",
                       code="hall_exists")
    above = _row(session, parent)
    if not above.enabled:
        raise Conflict(f"{parent} is disabled", code="hall_disabled")
    model = session.get(RegionHall, template)
    if model is None or model.config_path is None:
        raise InvalidInput(f"{template!r} is not a hall with a floor", code="invalid_template",
                           field="template")
    position = session.scalar(select(func.coalesce(func.max(RegionHall.position), -1))
                              .where(RegionHall.parent_code == parent))
    row = RegionHall(code=code, name_zh=_name(name_zh, "name_zh"),
                     name_en=_name(name_en, "name_en"), level=level, parent_code=parent,
                     config_path=model.config_path, position=int(position or 0) + 1,
                     enabled=True)
    session.add(row)
    _check(session)
    _record(session, actor, now, "added", code, {},
            {**hall_view(row), "template": template})
    return row


def rename_hall(session: Session, actor: str, covered: Collection[str], code: str, *,
                name_zh: str | None, name_en: str | None, now: dt.datetime) -> RegionHall:
    """New names (None: that name kept)."""
    _inside(covered, code)
    row = _row(session, code)
    names = {"name_zh": _name(name_zh, "name_zh") if name_zh is not None else row.name_zh,
             "name_en": _name(name_en, "name_en") if name_en is not None else row.name_en}
    before = {"name_zh": row.name_zh, "name_en": row.name_en}
    if names != before:
        row.name_zh, row.name_en = names["name_zh"], names["name_en"]
        _record(session, actor, now, "renamed", code, before, names)
    return row


def set_enabled(session: Session, actor: str, covered: Collection[str], code: str,
                enabled: bool, now: dt.datetime) -> RegionHall:
    _inside(covered, code)
    row = _row(session, code)
    if row.enabled == enabled:
        return row
    if not enabled and session.scalar(select(func.count()).select_from(RegionHall).where(
            RegionHall.parent_code == code, RegionHall.enabled)):
        raise Conflict(f"{code} has enabled halls below it: move or disable them first",
                       code="has_children")
    if enabled and row.parent_code is not None and not _row(session, row.parent_code).enabled:
        raise Conflict(f"{row.parent_code} is disabled", code="hall_disabled")
    row.enabled = enabled
    _check(session)
    _record(session, actor, now, "enabled" if enabled else "disabled", code,
            {"enabled": not enabled}, {"enabled": enabled})
    return row


def move_hall(session: Session, actor: str, covered: Collection[str], code: str, parent: str,
              now: dt.datetime) -> RegionHall:
    """Under another parent (of a higher level, not below the node itself)."""
    _inside(covered, code, parent)
    row = _row(session, code)
    if row.parent_code == parent:
        return row
    above = _row(session, parent)
    seen: RegionHall | None = above
    while seen is not None:
        if seen.code == code:
            raise InvalidInput(f"{parent} is below {code}", code="invalid_hierarchy",
                               field="parent")
        seen = session.get(RegionHall, seen.parent_code) if seen.parent_code else None
    if not above.enabled:
        raise Conflict(f"{parent} is disabled", code="hall_disabled")
    before = {"parent": row.parent_code}
    position = session.scalar(select(func.coalesce(func.max(RegionHall.position), -1))
                              .where(RegionHall.parent_code == parent))
    row.parent_code, row.position = parent, int(position or 0) + 1
    _check(session)
    _record(session, actor, now, "moved", code, before, {"parent": parent})
    return row
