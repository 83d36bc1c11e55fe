"""One archive package per finished case, written by a job so that nothing is lost.

A case is *finished* when none of its items can move any more: every item delivered or
rejected (a case whose items were all rejected is closed without a result). The job
``archive_finished`` looks for finished cases without a package, every run: a crash
between finishing and archiving, or while writing, only delays the package to the next
run (the transactional outbox's guarantee, with the case table as the outbox). A package
is recorded in ``archive_packages`` only after its files are complete and in place.

Payload (``data/``)::

    metadata.json          archival description (docs/archive.md: elements and their sources)
    record.json            the intake record: items, departments, decisions, time limits,
                           applicant (masked unless ``[archive] applicant = "full"``), rating
    routing_slip.json      the routing slip (hall_ops.cases.slip) as it stood when finished
    events.json            every status change of every item, and the window visits
    form.json              the application form accepted at intake, if one was
    materials/index.json   each material: paper / e-licence / missing, when, for which items,
                           and the files contributors added (materials/<name>)
    licences/index.json    licences contributors added (licences/<name>)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from hall_ops.archive import contributors
from hall_ops.archive.bag import BagWriter, DigestMismatch
from hall_ops.archive.models import ArchivePackage
from hall_ops.cases.catalogue import RETENTION_PERIODS
from hall_ops.cases.identity import mask_id, mask_phone, masked_applicant
from hall_ops.cases.intake import IntakeRules, get_case
from hall_ops.cases.models import Case, CaseItem, CaseItemEvent, CaseVisit, Delivery
from hall_ops.cases.slip import routing_slip
from hall_ops.cases.time_limits import item_time_limit
from hall_ops.cases.views import clock_view, material_view
from hall_ops.clock import hall_day, iso_utc
from hall_ops.db import Database
from hall_ops.evaluation.models import Rating
from hall_ops.evaluation.ratings import level_code
from hall_ops.forms.drafts import form_of_case
from hall_ops.forms.spec import APPLICANT, ItemFormField
from hall_ops.queue.models import Ticket

if TYPE_CHECKING:
    from hall_ops.config import HallConfig

log = logging.getLogger(__name__)

FINAL_STATUSES = ("delivered", "rejected")
RETENTION_YEARS = {"30y": 30, "10y": 10}
SCHEMA = "hall-ops archive package 1"


@dataclass(frozen=True)
class ArchiveSettings:
    store: Path
    """Folder of the packages (default: the instance folder's ``archive/``)."""
    default_retention: str = "30y"
    applicant: str = "masked"
    """``masked``: the applicant as paper shows it (张*); ``full``: whole, for an archive
    office that requires it (the package then holds sensitive personal data)."""
    fonds: str = ""
    """全宗号 given by the archive office, if any."""
    hall_name: str = ""

    def __post_init__(self) -> None:
        if self.default_retention not in RETENTION_PERIODS:
            raise ValueError(f"default_retention is one of {RETENTION_PERIODS}")
        if self.applicant not in ("masked", "full"):
            raise ValueError("applicant is masked or full")


def settings_from_config(hall: HallConfig) -> ArchiveSettings:
    """``[archive]``: the store relative to the config file (default ``instance/archive``)."""
    section = hall.sections.archive
    store = hall.base_dir / section.path if section.path else hall.instance / "archive"
    return ArchiveSettings(store=store, default_retention=section.default_retention,
                           applicant=section.applicant, fonds=section.fonds,
                           hall_name=hall.name_zh)


# ---------------------------------------------------------------- which cases


def pending_cases(session: Session, limit: int = 50) -> list[int]:
    """Ids of finished cases that have no package yet, oldest first."""
    open_item = exists().where(CaseItem.case_id == Case.id,
                               CaseItem.status.not_in(FINAL_STATUSES))
    archived = exists().where(ArchivePackage.case_id == Case.id)
    return list(session.scalars(
        select(Case.id).where(~open_item, ~archived).order_by(Case.id).limit(limit)))


def finished_at(case: Case) -> dt.datetime:
    """The last status change of the case: its hand-over or its last decision."""
    return max(e.at for item in case.items for e in item.events)


def retention_of(case: Case, default: str) -> str:
    """The longest retention any of its items asks for."""
    order = {p: i for i, p in enumerate(RETENTION_PERIODS)}
    return min((item.item.retention or default for item in case.items), key=order.__getitem__)


def retain_until(retention: str, finished_on: dt.date) -> dt.date | None:
    """Counted from 1 January of the year after the case finished, as archives count it."""
    years = RETENTION_YEARS.get(retention)
    return None if years is None else dt.date(finished_on.year + years, 12, 31)


# ---------------------------------------------------------------- the payload


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False).encode()


def _applicant(case: Case, policy: str) -> dict[str, Any]:
    whole = {"kind": case.applicant_kind, "name": case.applicant_name,
             "id_number": case.applicant_id_number, "phone": case.applicant_phone}
    return whole if policy == "full" else masked_applicant(whole)


RESIDENT_ID = re.compile(r"[0-9]{17}[0-9Xx]")


def _masked_value(value: Any, kind: str | None) -> Any:
    """A form value as paper shows it: ID numbers and phones masked, by the field's type or,
    for a field the catalogue no longer describes, by the look of the value."""
    if not isinstance(value, str) or not value:
        return value
    if kind == "id_number" or RESIDENT_ID.fullmatch(value):
        return mask_id(value)
    if kind == "phone" or re.fullmatch(r"1[3-9][0-9]{9}|0[1-9][0-9]{8,10}", value):
        return mask_phone(value)
    return value


def _form(session: Session, case: Case, policy: str) -> dict[str, Any] | None:
    form = form_of_case(session, case.id)
    if form is None:
        return None
    values = json.loads(json.dumps(form.values))
    if policy == "masked":
        values["applicant"] = masked_applicant(values["applicant"])
        for code, fields in values["fields"].items():
            kinds = dict(session.execute(
                select(ItemFormField.name, ItemFormField.type)
                .where(ItemFormField.item_code == code)).all())
            for name, value in fields.items():
                fields[name] = _masked_value(value, kinds.get(name))
    return {
        "items": form.item_codes, "values": values, "source": form.source,
        "filled_at": iso_utc(form.filled_at), "accepted_at": iso_utc(form.accepted_at),
        "accepted_by": form.accepted_by, "corrected_by_clerk": form.corrected,
        "applicant_section": [f.name for f in APPLICANT],
    }


def _events(session: Session, case: Case) -> dict[str, Any]:
    rows = session.execute(
        select(CaseItemEvent, CaseItem.item_code)
        .join(CaseItem, CaseItem.id == CaseItemEvent.case_item_id)
        .where(CaseItem.case_id == case.id).order_by(CaseItemEvent.id)
    ).all()
    visits = session.scalars(
        select(CaseVisit).where(CaseVisit.case_id == case.id).order_by(CaseVisit.id)).all()
    return {
        "item_events": [
            {"item": code, "at": iso_utc(e.at), "from": e.from_status, "to": e.to_status,
             "actor": e.actor, "reason": e.reason, "origin": e.origin}
            for e, code in rows
        ],
        "visits": [
            {"at": iso_utc(v.at), "purpose": v.purpose, "window": v.window_number,
             "ticket": (t.number if (t := session.get(Ticket, v.ticket_id)) else None)}
            for v in visits
        ],
    }


def _rating(session: Session, case: Case) -> dict[str, Any] | None:
    """The ratings of the case's visits and of its items (好差评), as given: an appeal that
    took one out of the clerk's figures is noted, never hidden."""
    tickets = {case.ticket_id, *session.scalars(
        select(CaseVisit.ticket_id).where(CaseVisit.case_id == case.id))}
    ratings = session.scalars(
        select(Rating).where(or_(Rating.ticket_id.in_(tickets), Rating.case_number == case.number))
        .order_by(Rating.id)).all()
    if not ratings:
        return None
    return {"ratings": [{"subject": r.subject, "item": r.item_code, "level": r.level,
                         "level_code": level_code(r.level), "tags": list(r.tags),
                         "window": r.window_number, "at": iso_utc(r.at), "channel": r.channel,
                         "follow_up": r.follow_up is not None, "excluded": r.excluded}
                        for r in ratings]}


def _record(session: Session, case: Case, rules: IntakeRules, settings: ArchiveSettings,
            now: dt.datetime) -> dict[str, Any]:
    delivery = session.scalars(select(Delivery).where(Delivery.case_id == case.id)).first()
    items = []
    for item in case.items:
        clock = clock_view(item_time_limit(rules, item, now))
        decision = next((e for e in reversed(item.events)
                         if e.to_status in ("approved", "rejected")), None)
        items.append({
            "code": item.item_code, "name_zh": item.item.name_zh, "name_en": item.item.name_en,
            "department": {"code": item.department_code, "name_zh": item.department_name_zh},
            "final_status": item.status,
            "decision": None if decision is None else {
                "outcome": decision.to_status, "at": iso_utc(decision.at),
                "by": decision.actor, "reason": decision.reason,
            },
            "time_limit": {**clock, "kept": not clock["overdue"]},
            "retention": item.item.retention or settings.default_retention,
        })
    return {
        "case_number": case.number,
        "accepted_at": iso_utc(case.accepted_at),
        "accepted_on": case.day.isoformat(),
        "window": case.window_number,
        "clerk": case.clerk_id,
        "applicant": _applicant(case, settings.applicant),
        "applicant_policy": settings.applicant,
        "items": items,
        "departments": sorted({i.department_code for i in case.items}),
        "delivery": None if delivery is None else {
            "ready_at": iso_utc(delivery.ready_at), "notified_at": iso_utc(delivery.notified_at),
            "handed_over_at": iso_utc(delivery.handed_over_at),
            "window": delivery.window_number, "clerk": delivery.clerk_id,
        },
        "windows_visited": case.windows_visited,
        "materials_handed_in": case.materials_handed_in,
        "rating": _rating(session, case),
    }


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[\x00-\x1f/\\]", "_", name).strip(". ") or "file"
    return cleaned[:150]


def _section(bag: BagWriter, section: str, files: Iterable[contributors.ArchivedFile]
             ) -> list[dict[str, Any]]:
    listed = []
    for file in files:
        path = f"{section}/{_safe_name(file.name)}"
        stream = file.open()
        try:
            digest = bag.add(path, stream, expected=file.sha256)
        finally:
            stream.close()
        listed.append({"path": path, "sha256": digest, "bytes": bag.sizes[path],
                       "media_type": file.media_type, "provenance": dict(file.record)})
    return listed


def write_package(session: Session, case_id: int, settings: ArchiveSettings,
                  rules: IntakeRules, now: dt.datetime) -> ArchivePackage:
    """Write the case's package into the store and return its register row (not added)."""
    case = session.get(Case, case_id)
    assert case is not None
    case = get_case(session, case.number)
    ended = finished_at(case)
    ended_on = hall_day(ended, rules.timezone)
    retention = retention_of(case, settings.default_retention)
    relative = f"{ended_on.year}/{case.number}"
    bag = BagWriter(settings.store / relative)
    try:
        record = _record(session, case, rules, settings, ended)
        bag.add("record.json", _json(record))
        slip = routing_slip(session, case.number, rules=rules, now=ended)
        if settings.applicant == "full":
            slip["applicant"] = record["applicant"]
        bag.add("routing_slip.json", _json(slip))
        bag.add("events.json", _json(_events(session, case)))
        form = _form(session, case, settings.applicant)
        if form is not None:
            bag.add("form.json", _json(form))
        material_files = _section(bag, "materials",
                                  contributors.materials_of_case(session, case))
        bag.add("materials/index.json", _json({
            "materials": [
                {**material_view(m), "received_at": iso_utc(m.received_at),
                 "provenance": m.source or "missing"}
                for m in case.materials
            ],
            "files": material_files,
        }))
        licence_files = _section(bag, "licences", contributors.licences_of_case(session, case))
        bag.add("licences/index.json", _json({"licences": licence_files}))
        metadata = _metadata(case, record, settings, retention, ended, ended_on, now, bag)
        bag.add("metadata.json", _json(metadata))
        digest = bag.finish({
            "Source-Organization": settings.hall_name or "hall-ops",
            "External-Identifier": case.number,
            "Bagging-Date": hall_day(now, rules.timezone).isoformat(),
            "Bag-Group-Identifier": str(ended_on.year),
            "Internal-Sender-Description": SCHEMA,
        })
    except BaseException:
        bag.discard()
        raise
    return ArchivePackage(
        case_id=case.id, case_number=case.number, finished_at=ended, finished_on=ended_on,
        archived_at=now, path=relative, manifest_sha256=digest, files=len(bag.digests) + 4,
        bytes=sum(bag.sizes.values()), retention=retention,
        retain_until=retain_until(retention, ended_on),
    )


def _metadata(case: Case, record: dict[str, Any], settings: ArchiveSettings, retention: str,
              ended: dt.datetime, ended_on: dt.date, now: dt.datetime, bag: BagWriter
              ) -> dict[str, Any]:
    """The archival description: element names after DA/T 46 as GB/T 18894-2016 uses them
    (docs/archive.md lists which are carried and which are not)."""
    names = "、".join(i["name_zh"] for i in record["items"])
    return {
        "schema": SCHEMA,
        "aggregation_level": "件",                                 # 聚合层次: one case = one item
        "fonds_code": settings.fonds or None,                     # 全宗号
        "archival_code": f"{settings.fonds + '-' if settings.fonds else ''}"
                         f"{ended_on.year}-{case.number}",       # 档号
        "year": ended_on.year,                                    # 年度
        "retention_period": retention,                            # 保管期限
        "retain_until": (d.isoformat() if (d := retain_until(retention, ended_on)) else None),
        "title": f"{case.number} {names}",                        # 题名
        "creator": settings.hall_name or None,                    # 立档单位 / 责任者
        "departments": [
            {"code": i["department"]["code"], "name_zh": i["department"]["name_zh"]}
            for i in record["items"]
        ],                                                        # 机构 (承办部门)
        "date_created": record["accepted_at"],                    # 文件形成日期 (受理)
        "date_finished": iso_utc(ended),                          # 办结日期
        "date_archived": iso_utc(now),                            # 归档日期
        "archived_by": "hall-ops archive job",                    # 归档人
        "business_activities": ["受理", "审批", "办结"],          # 业务行为
        "applicant_policy": settings.applicant,
        "security_classification": "非密",                        # 密级 (a hall handles none)
        "files": [
            {"path": f"data/{p}", "bytes": bag.sizes[p], "sha256": d,
             "format": "application/json" if p.endswith(".json") else None}
            for p, d in sorted(bag.digests.items())
        ],                                                        # 计算机文件名/大小/格式/摘要
        "fixity_algorithm": "SHA-256",
        "package_format": "BagIt 1.0 (RFC 8493)",
    }


# ---------------------------------------------------------------- the job


def archive_finished(db: Database, settings: ArchiveSettings, rules: IntakeRules,
                     now: dt.datetime, *, limit: int = 50) -> list[str]:
    """Write and record the packages of finished cases not yet archived; returns their
    numbers. A case whose package fails (a contributor's file unreadable or damaged) is
    logged and tried again next run; the others go on."""
    with db.read() as s:
        pending = pending_cases(s, limit)
    done = []
    for case_id in pending:
        try:
            with db.read() as s:
                row = write_package(s, case_id, settings, rules, now)
            with db.write() as s:
                s.add(row)
            done.append(row.case_number)
        except (DigestMismatch, OSError) as exc:
            log.error("archive: case id %s not archived this run: %s", case_id, exc)
        except Exception:  # one case's bug must not stop the cases after it, every run
            log.exception("archive: case id %s not archived this run", case_id)
    return done
