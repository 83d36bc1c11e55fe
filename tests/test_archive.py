"""The electronic archive: a finished case gets a verifiable package through the job, one
changed byte fails the check (library and command line), a crash loses nothing, contributors
add files (a damaged one is refused), and a date range is exported for the archive office."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hall_ops import queue
from hall_ops.archive import contributors
from hall_ops.archive.bag import verify
from hall_ops.archive.export import ExportError, export_packages
from hall_ops.archive.models import ArchivePackage
from hall_ops.archive.package import ArchiveSettings, archive_finished, write_package
from hall_ops.cases import delivery
from hall_ops.cases.catalogue import load_catalogue
from hall_ops.cases.intake import get_case, set_item_status
from tests.test_intake import NOW, ROOT, RULES, flat_case, intake, serve

LATER = NOW + dt.timedelta(days=2)


@pytest.fixture
def hall(db):
    with db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
    return db


@pytest.fixture
def settings(tmp_path) -> ArchiveSettings:
    return ArchiveSettings(store=tmp_path / "archive", hall_name="测试政务服务大厅")


def decide(db, number: str, status: str, at: dt.datetime) -> None:
    with db.write() as s:
        for item in get_case(s, number).items:
            set_item_status(s, number, item.item_code, "in_review", "appr", now=at)
            set_item_status(s, number, item.item_code, status, "appr",
                            None if status == "approved" else "材料不符", now=at)


def hand_over(db, hall_config, number: str, at: dt.datetime) -> None:
    with db.write() as s:
        delivery.find_ready(s, at)
    with db.write() as s:
        ticket = delivery.check_in(s, hall_config, number, "8000", at, ignore_hours=True)
        queue.open_window(s, 14, "c14", at)
        called, _ = queue.call_next(s, hall_config, 14, "c14", at)
        assert called.id == ticket.id
        queue.start_service(s, 14, "c14", at)
        # gaps may still be outstanding: handed over on a recorded reason (容缺受理)
        delivery.hand_over(s, 14, "c14", at, confirm_gaps=True, reason="容缺后补，已告知")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hall_web", "archive", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_a_delivered_case_is_archived_verified_and_one_changed_byte_fails(
        hall, hall_config, settings):
    number = flat_case(hall, hall_config)
    assert archive_finished(hall, settings, RULES, NOW) == []  # open: nothing to archive
    decide(hall, number, "approved", NOW + dt.timedelta(hours=3))
    assert archive_finished(hall, settings, RULES, NOW) == []  # approved, not yet delivered
    hand_over(hall, hall_config, number, LATER)
    assert archive_finished(hall, settings, RULES, LATER) == [number]
    assert archive_finished(hall, settings, RULES, LATER) == []  # once
    with hall.read() as s:
        row = s.scalars(select(ArchivePackage)).one()
    package = settings.store / row.path
    assert row.path == f"2026/{number}" and row.finished_on == dt.date(2026, 11, 27)
    # real-estate registration is kept for good; the others 30 years: the longest wins
    assert (row.retention, row.retain_until) == ("permanent", None)
    assert verify(package) == []
    done = run("verify", str(package))
    assert done.returncode == 0 and "intact" in done.stdout

    record = json.loads((package / "data" / "record.json").read_text())
    assert record["applicant"] == {"kind": "person", "name": "张*",
                                   "id_number": "3****************9", "phone": "138****8000"}
    assert "330106198507201239" not in "".join(
        p.read_text() for p in package.rglob("*") if p.is_file())
    assert [i["final_status"] for i in record["items"]] == ["delivered"] * 3
    assert all(i["time_limit"]["kept"] for i in record["items"])
    assert record["items"][0]["decision"]["outcome"] == "approved"
    assert record["delivery"]["window"] == 14 and record["windows_visited"] == 2
    materials = json.loads((package / "data" / "materials" / "index.json").read_text())
    provenance = {m["name_zh"]: m["provenance"] for m in materials["materials"]}
    assert provenance["申请人身份证明"] == "e_licence" and provenance["不动产买卖合同"] == "paper"
    assert provenance["完税凭证"] == "missing"
    events = json.loads((package / "data" / "events.json").read_text())
    assert [e["to"] for e in events["item_events"]][-3:] == ["delivered"] * 3
    assert [v["purpose"] for v in events["visits"]] == ["intake", "delivery"]
    slip = json.loads((package / "data" / "routing_slip.json").read_text())
    assert slip["case_number"] == number
    metadata = json.loads((package / "data" / "metadata.json").read_text())
    assert metadata["retention_period"] == "permanent" and metadata["year"] == 2026
    assert metadata["creator"] == "测试政务服务大厅"
    listed = {f["path"] for f in metadata["files"]}
    assert "data/record.json" in listed and "data/events.json" in listed
    manifest = (package / "manifest-sha256.txt").read_text()
    assert row.manifest_sha256 == hashlib.sha256(manifest.encode()).hexdigest()

    target = package / "data" / "record.json"
    data = bytearray(target.read_bytes())
    data[10] ^= 0x01  # one bit of one byte
    target.write_bytes(bytes(data))
    assert verify(package) == ["data/record.json: checksum does not match the manifest"]
    done = run("verify", str(package))
    assert done.returncode == 1 and "data/record.json" in done.stderr
    (package / "data" / "extra.txt").write_text("slipped in")
    assert "data/extra.txt: not in the manifest" in verify(package)
    (package / "data" / "events.json").unlink()
    assert "data/events.json: missing" in verify(package)


def test_a_closed_case_is_archived_and_a_crash_before_recording_loses_nothing(
        hall, hall_config, settings):
    number = flat_case(hall, hall_config)
    decide(hall, number, "rejected", NOW + dt.timedelta(hours=1))  # closed without a result
    with hall.read() as s:  # the job died after writing the files, before recording them
        (case_id,) = s.scalars(select(ArchivePackage.id)).all() or [None]
        assert case_id is None
        write_package(s, get_case(s, number).id, settings, RULES, NOW)
    leftover = settings.store / f"2026/{number}"
    assert verify(leftover) == []
    (leftover / "data" / "record.json").write_text("half")  # and even damaged
    assert archive_finished(hall, settings, RULES, NOW) == [number]  # written again, recorded
    assert verify(leftover) == []
    record = json.loads((leftover / "data" / "record.json").read_text())
    assert {i["decision"]["reason"] for i in record["items"]} == {"材料不符"}
    assert not [p for p in settings.store.rglob(".*")]  # no staging folder left behind


def test_contributors_add_files_and_a_damaged_one_is_refused_until_it_is_sound(
        hall, hall_config, settings):
    scan = b"%PDF-1.7 scan of the contract"
    stored = {"bytes": b"%PDF-1.7 scan of the contracX"}  # the store returns a damaged copy

    def scans(session, case):
        yield contributors.ArchivedFile(
            name="1-不动产买卖合同.pdf", open=lambda: io.BytesIO(stored["bytes"]),
            media_type="application/pdf", sha256=hashlib.sha256(scan).hexdigest(),
            record={"material": "不动产买卖合同", "store": "local", "key": "ab/cd"})

    def licences(session, case):
        yield contributors.ArchivedFile(name="../DZZZ-0001.json",
                                        open=lambda: io.BytesIO(b'{"licence": "DZZZ-0001"}'),
                                        media_type="application/json")

    contributors.register("materials", scans)
    contributors.register("licences", licences)
    try:
        number = flat_case(hall, hall_config)
        decide(hall, number, "rejected", NOW)
        assert archive_finished(hall, settings, RULES, NOW) == []  # refused, logged
        assert not (settings.store / f"2026/{number}").exists()
        stored["bytes"] = scan
        assert archive_finished(hall, settings, RULES, NOW) == [number]  # next run
    finally:
        contributors.unregister("materials", scans)
        contributors.unregister("licences", licences)
    package = settings.store / f"2026/{number}"
    assert (package / "data" / "materials" / "1-不动产买卖合同.pdf").read_bytes() == scan
    assert (package / "data" / "licences" / "_DZZZ-0001.json").exists()  # no way out
    index = json.loads((package / "data" / "materials" / "index.json").read_text())
    assert index["files"][0]["provenance"]["material"] == "不动产买卖合同"
    assert verify(package) == []


def test_export_a_date_range_with_a_handover_list(hall, hall_config, settings, tmp_path):
    first = flat_case(hall, hall_config)
    second = intake(hall, serve(hall, hall_config, 9, "c09", "real_estate"), window=9,
                    clerk="c09")
    decide(hall, first, "rejected", NOW)                               # finished 25 Nov
    decide(hall, second, "rejected", NOW + dt.timedelta(days=6))       # finished 1 Dec
    assert sorted(archive_finished(hall, settings, RULES, NOW)) == sorted([first, second])
    out = tmp_path / "handover"
    assert export_packages(hall, settings.store, out, dt.date(2026, 11, 1),
                           dt.date(2026, 11, 30)) == [first]
    assert sorted(p.name for p in out.iterdir()) == [first, "handover.csv",
                                                     "handover.csv.sha256"]
    assert verify(out / first) == []
    rows = list(csv.DictReader((out / "handover.csv").open(encoding="utf-8")))
    assert [(r["case_number"], r["finished_on"], r["retention"]) for r in rows] == [
        (first, "2026-11-25", "permanent")]
    digest = hashlib.sha256((out / "handover.csv").read_bytes()).hexdigest()
    assert (out / "handover.csv.sha256").read_text().split()[0] == digest
    with pytest.raises(ExportError, match="not empty"):
        export_packages(hall, settings.store, out, dt.date(2026, 11, 1), dt.date(2026, 12, 31))
    # a damaged package refuses the whole hand-over, naming it and the file
    with hall.read() as s:
        path = s.scalars(select(ArchivePackage.path).where(
            ArchivePackage.case_number == second)).one()
    (settings.store / path / "data" / "events.json").write_text("{}")
    with pytest.raises(ExportError, match=f"{second}: data/events.json"):
        export_packages(hall, settings.store, tmp_path / "again", dt.date(2026, 11, 1),
                        dt.date(2026, 12, 31))
    with hall.read() as s:
        assert s.scalar(select(func.count(ArchivePackage.id))) == 2


def test_export_on_the_command_line(tmp_path, hall_config):
    """``./hall archive export`` reads the config's database and store."""
    from hall_ops.db import Database
    from tests.conftest import make_hall_db

    config = tmp_path / "config.toml"
    config.write_text((ROOT / "config.toml").read_text(encoding="utf-8").replace(
        "[catalogue]", "[archive]\npath = \"packages\"\n\n[catalogue]", 1), encoding="utf-8")
    db: Database = make_hall_db(f"sqlite:///{tmp_path / 'instance' / 'hall.db'}", hall_config)
    try:
        with db.write() as s:
            load_catalogue(s, ROOT / "data" / "catalogue")
        number = flat_case(db, hall_config)
        decide(db, number, "rejected", NOW)
        settings = ArchiveSettings(store=tmp_path / "packages")
        assert archive_finished(db, settings, RULES, NOW) == [number]
    finally:
        db.dispose()
    out = tmp_path / "out"
    done = run("export", "--from", "2026-11-25", "--to", "2026-11-25", str(out),
               "--config", str(config), "--database-url",
               f"sqlite:///{tmp_path / 'instance' / 'hall.db'}")
    assert done.returncode == 0, done.stderr
    assert (out / number / "bagit.txt").exists() and "1 package(s)" in done.stdout
    done = run("export", "--from", "2026-11-25", "--to", "2026-11-24", str(tmp_path / "o2"),
               "--config", str(config))
    assert done.returncode == 1 and "before" in done.stderr
    assert Path(out / "handover.csv").exists()


def test_the_scheduler_archives_finished_cases_and_deletes_expired_drafts(tmp_path):
    """The jobs as the server runs them (the leader's scheduler), not called by hand."""
    import dataclasses
    import time

    from hall_ops.config import load_config
    from hall_ops.forms.drafts import FormDraft
    from hall_web.jobs import start_jobs
    from tests.support.web import hall_app
    from tests.test_forms import form

    config = load_config(ROOT / "config.toml")
    config = dataclasses.replace(config, raw={**config.raw, "archive": {
        "path": str(tmp_path / "packages")}, "forms": {"draft_hours": 1.0}})
    now = {"t": NOW}
    app = hall_app(config, database_url=f"sqlite:///{tmp_path / 'h.db'}",
                   clock=lambda: now["t"], always_open=True)
    hall = app.extensions["hall"]
    number = flat_case(hall.db, config)
    decide(hall.db, number, "rejected", NOW)
    citizen = app.test_client()
    token = citizen.post("/api/v1/tickets", json={"service": "enterprise"}).json["token"]
    assert citizen.put(f"/api/v1/tickets/{token}/draft", json=form()).status_code == 200
    now["t"] = NOW + dt.timedelta(hours=2)
    scheduler = start_jobs(app)
    try:
        deadline = time.monotonic() + 30
        archived, drafts = [], 1
        while time.monotonic() < deadline and not (archived and drafts == 0):
            with hall.db.read() as s:
                archived = s.scalars(select(ArchivePackage.case_number)).all()
                drafts = s.scalar(select(func.count(FormDraft.id)))
            time.sleep(0.3)
        assert archived == [number] and drafts == 0
        assert verify(tmp_path / "packages" / "2026" / number) == []
    finally:
        scheduler.shutdown(wait=True)
        hall.db.dispose()


def test_the_form_accepted_from_a_draft_is_archived_with_identities_masked(
        hall, hall_config, settings):
    from hall_ops.cases.catalogue import get_item
    from hall_ops.forms.drafts import accept_draft, save_draft
    from tests.test_forms import form

    with hall.write() as s:
        queue.open_window(s, 4, "c04", NOW)
        ticket = queue.take_ticket(s, hall_config, "enterprise", NOW, ignore_hours=True)
        draft = save_draft(s, ticket.status_token, form(), source="kiosk", now=NOW, rules=RULES)
        queue.call_next(s, hall_config, 4, "c04", NOW)
        queue.start_service(s, 4, "c04", NOW)
        case, corrected = accept_draft(
            s, RULES, draft.id, checked=form(), ticket_id=ticket.id, window_number=4,
            clerk_id="c04", received=[m.name_zh for m in get_item(s, "QY-01").materials],
            now=NOW)
        number = case.number
    assert corrected == []
    decide(hall, number, "rejected", NOW)
    assert archive_finished(hall, settings, RULES, NOW) == [number]
    package = settings.store / f"2026/{number}"
    kept = json.loads((package / "data" / "form.json").read_text())
    assert (kept["source"], kept["accepted_by"], kept["corrected_by_clerk"]) == (
        "kiosk", "c04", [])
    values = kept["values"]
    assert values["applicant"]["name"] == "李*"
    assert values["applicant"]["id_number"] == "3****************9"
    assert values["fields"]["QY-01"]["representative_id"] == "1****************X"
    assert values["fields"]["QY-01"]["company_name"] == "杭州云帆科技有限公司"
    text = "".join(p.read_text() for p in package.rglob("*.json"))
    assert "11010519491231002X" not in text and "330106198507201239" not in text
    full = ArchiveSettings(store=settings.store.parent / "full", applicant="full")
    with hall.read() as s:
        row = write_package(s, get_case(s, number).id, full, RULES, NOW)
    record = json.loads((full.store / row.path / "data" / "record.json").read_text())
    assert record["applicant"]["id_number"] == "330106198507201239"  # the office asked for it


def test_drafts_and_packages_on_both_databases(any_db, hall_config, tmp_path):
    """The draft's lock, its deletion and the archive's queries on SQLite and PostgreSQL."""
    from hall_ops.cases.catalogue import get_item
    from hall_ops.forms.drafts import FormDraft, accept_draft, delete_expired, save_draft
    from tests.test_forms import form

    with any_db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
        queue.open_window(s, 4, "c04", NOW)
        first = queue.take_ticket(s, hall_config, "enterprise", NOW, ignore_hours=True)
        second = queue.take_ticket(s, hall_config, "enterprise", NOW, ignore_hours=True)
        draft = save_draft(s, first.status_token, form(), source="phone", now=NOW, rules=RULES)
        save_draft(s, second.status_token, form(), source="phone", now=NOW, rules=RULES)
        queue.call_next(s, hall_config, 4, "c04", NOW)
        queue.start_service(s, 4, "c04", NOW)
        case, _ = accept_draft(
            s, RULES, draft.id, checked=form(), ticket_id=first.id, window_number=4,
            clerk_id="c04", received=[m.name_zh for m in get_item(s, "QY-01").materials],
            now=NOW)
        number = case.number
    with any_db.write() as s:
        assert delete_expired(s, NOW + dt.timedelta(days=4)) == 1  # the second's, expired
        assert s.scalar(select(func.count(FormDraft.id))) == 0
    decide(any_db, number, "rejected", NOW)
    settings = ArchiveSettings(store=tmp_path / "archive")
    assert archive_finished(any_db, settings, RULES, NOW) == [number]
    assert archive_finished(any_db, settings, RULES, NOW) == []
    assert verify(settings.store / f"2026/{number}") == []


def test_a_finished_case_is_archived_with_its_scans_and_its_licence(
        hall, hall_config, settings, tmp_path):
    """The library and the material store are the archive's contributors: the scan's bytes
    and the issued licence (without its signed text, which names the holder's ID) go in."""
    from hall_ops.licences.archiving import connect_archive
    from hall_ops.licences.store import LocalStore, add_file
    from tests.test_licences import issued_licence

    store = LocalStore(tmp_path / "materials")
    connect_archive(hall, store)
    scan = b"%PDF-1.4 scan of the application form"
    issued = issued_licence(hall, hall_config, NOW)
    with hall.write() as s:
        add_file(s, store, issued.case, "不动产登记申请书", scan, "application/pdf",
                 "申请书.pdf", "c09", NOW)
    hand_over(hall, hall_config, issued.case, LATER)
    assert archive_finished(hall, settings, RULES, LATER) == [issued.case]
    package = settings.store / f"2026/{issued.case}"
    assert verify(package) == []
    scans = list((package / "data" / "materials").glob("*申请书.pdf"))
    assert [p.read_bytes() for p in scans] == [scan]
    licence = json.loads((package / "data" / "licences" / f"issued-{issued.number}.json")
                         .read_text())
    assert (licence["use"], licence["status"], licence["fragment"]) == (
        "issued", "valid", issued.fragment)
    assert "signed" not in licence and licence["signature"]
    assert "330106198507201239" not in "".join(
        p.read_text(errors="replace") for p in package.rglob("*") if p.is_file())
