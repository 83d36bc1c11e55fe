"""The tamper-evident record: chains written with the rows, edits and deletions made with plain
SQL found and named, concurrent writers keeping one chain, the daily root and its export.

The append-only triggers refuse UPDATE and DELETE; someone with the database's owner rights
can drop them, which is what a tamperer does first here.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from hall_ops import queue
from hall_ops.audit import chain
from hall_ops.audit.models import AuditHead, AuditRoot
from hall_ops.audit.roots import export, take_root
from hall_ops.audit.verify import verify_database
from hall_ops.cases.catalogue import load_catalogue
from hall_ops.cases.intake import set_item_status
from hall_ops.cases.models import CaseItemEvent
from hall_ops.db import Database
from hall_ops.queue.models import TicketEvent
from hall_ops.staff import log
from hall_ops.staff.models import SecurityEvent
from hall_web.commands import audit
from tests.conftest import OPEN_NOW
from tests.test_intake import flat_case

ROOT = Path(__file__).resolve().parent.parent


def drop_guards(db: Database, *tables: str) -> None:
    """What a tamperer with the owner's rights does first: lift the append-only triggers."""
    with db.engine.begin() as conn:
        for table in tables:
            if db.dialect == "sqlite":
                for verb in ("update", "delete"):
                    conn.exec_driver_sql(f"DROP TRIGGER {table}_no_{verb}")
            else:
                conn.exec_driver_sql(f"DROP TRIGGER {table}_append_only ON {table}")


def busy_day(db: Database, hall_config) -> str:
    """Tickets called and served, a case approved in part, staff logins: every stream kind."""
    with db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
    for i in range(3):
        with db.write() as s:
            queue.take_ticket(s, hall_config, "enterprise", OPEN_NOW, ignore_hours=True)
            log.record(s, "login", OPEN_NOW, actor=f"c0{i}", subject=f"c0{i}")
    number = flat_case(db, hall_config)
    with db.write() as s:
        set_item_status(s, number, "BDC-01", "in_review", "appr-bdc", now=OPEN_NOW)
        log.record(s, "personal_data_read", OPEN_NOW, actor="appr-bdc",
                   subject=f"case:{number}", fields=["name"])
    return number


def findings(db: Database) -> list[tuple[str, str, int | None, int | None]]:
    report = verify_database(db)
    return [(f.problem, f.table, f.row_id, f.seq) for f in report.findings]


def test_rows_are_linked_as_they_are_written(any_db, hall_config):
    busy_day(any_db, hall_config)
    report = verify_database(any_db)
    assert report.ok, [f.text() for f in report.findings]
    with any_db.read() as s:
        events = s.scalars(select(TicketEvent).order_by(TicketEvent.id)).all()
        security = s.scalars(select(SecurityEvent).order_by(SecurityEvent.id)).all()
        item_events = s.scalars(select(CaseItemEvent).order_by(CaseItemEvent.id)).all()
        heads = {h.stream: (h.seq, h.hash) for h in s.scalars(select(AuditHead))}
    # a ticket's events are one stream; the security log is one stream
    per_ticket: dict[int, list[int]] = {}
    for e in events:
        per_ticket.setdefault(e.ticket_id, []).append(e.chain_seq)
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in per_ticket.values())
    assert [e.chain_seq for e in security] == list(range(1, len(security) + 1))
    assert heads["security_events"] == (security[-1].chain_seq, security[-1].chain_hash)
    first = item_events[0]
    assert first.chain_hash == chain.link_hash(
        chain.GENESIS, f"case_item_events:{first.case_item_id}", 1,
        json.dumps({"actor": "c08", "at": first.at.isoformat(),
                    "case_item_id": first.case_item_id, "to_status": "submitted"},
                   separators=(",", ":"), sort_keys=True, ensure_ascii=False))
    assert report.rows == len(events) + len(security) + len(item_events)


def test_an_edited_and_a_deleted_row_are_named(any_db, hall_config):
    busy_day(any_db, hall_config)
    drop_guards(any_db, "ticket_events", "security_events", "case_item_events")
    with any_db.read() as s:
        edited = s.scalars(select(TicketEvent).where(TicketEvent.kind == "called")).one()
        deleted = s.scalars(select(SecurityEvent).where(SecurityEvent.chain_seq == 2)).one()
        reviewed = s.scalars(select(CaseItemEvent).where(
            CaseItemEvent.to_status == "in_review")).one()
    with any_db.engine.begin() as conn:
        conn.execute(text("UPDATE ticket_events SET clerk_id = 'c99' WHERE id = :id"),
                     {"id": edited.id})
        conn.execute(text("DELETE FROM security_events WHERE id = :id"), {"id": deleted.id})
        # the last row of a stream, its head left as it was
        conn.execute(text("DELETE FROM case_item_events WHERE id = :id"), {"id": reviewed.id})
    found = findings(any_db)
    assert ("changed", "ticket_events", edited.id, edited.chain_seq) in found
    assert ("removed", "security_events", deleted.id + 1, 2) in found
    assert ("cut", "case_item_events", None, reviewed.chain_seq) in found
    assert len(found) == 3


def test_a_chain_rebuilt_after_an_edit_differs_from_the_daily_root(any_db, hall_config, tmp_path):
    """A tamperer who recomputes every link and the head after an edit leaves the chain
    consistent; the root taken before (and its exported copy) still shows it."""
    busy_day(any_db, hall_config)
    with any_db.write() as s:
        root = take_root(s, OPEN_NOW.date(), OPEN_NOW)
        assert root is not None and len(root.heads) > 3
        assert take_root(s, OPEN_NOW.date(), OPEN_NOW) is None  # once a day
        exported = export(s, OPEN_NOW)
    assert verify_database(any_db, exported).ok
    drop_guards(any_db, "security_events")
    registered = chain.REGISTRY["security_events"]
    with any_db.engine.begin() as conn:
        conn.execute(text("UPDATE security_events SET actor = 'nobody' WHERE chain_seq = 1"))
        previous = chain.GENESIS
        for _, row in chain.walk(conn, registered):
            previous = chain.link_hash(previous, "security_events", row["chain_seq"],
                                       registered.canonical(row))
            conn.execute(text("UPDATE security_events SET chain_hash = :h WHERE id = :id"),
                         {"h": previous, "id": row["id"]})
        conn.execute(text("UPDATE audit_heads SET hash = :h WHERE stream = 'security_events'"),
                     {"h": previous})
    assert findings(any_db) == [("rewritten", "security_events", 4, 4)]
    # ... and rewriting the root too is caught by the copy kept outside
    with any_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_roots"))
    report = verify_database(any_db, exported)
    assert [f.problem for f in report.findings] == ["root"]


def test_the_command_exits_1_and_names_the_row(any_db, hall_config, tmp_path, capsys):
    busy_day(any_db, hall_config)
    config = tmp_path / "hall.toml"
    config.write_text((ROOT / "config.toml").read_text())
    assert audit("verify", config, database_url=any_db.url) == 0
    assert "intact" in capsys.readouterr().out
    drop_guards(any_db, "ticket_events")
    with any_db.engine.begin() as conn:
        called = conn.execute(text("SELECT ticket_id, chain_seq FROM ticket_events "
                                   "WHERE kind = 'called'")).one()
        started = conn.execute(text("SELECT id FROM ticket_events WHERE kind = 'started'"))\
            .scalar_one()
        conn.execute(text("DELETE FROM ticket_events WHERE kind = 'called'"))
    assert audit("verify", config, database_url=any_db.url) == 1
    out = capsys.readouterr().out
    assert (f"audit: removed: ticket_events id={started} seq={called.chain_seq} (stream "
            f"ticket_events:{called.ticket_id}): row 2 is missing before this one") in out, out
    assert "1 finding(s)" in out


WRITER = """
import datetime as dt, sys
from hall_ops.db import Database
from hall_ops.staff import log
db = Database(sys.argv[1])
for i in range(int(sys.argv[3])):
    with db.write() as s:
        log.record(s, "login", dt.datetime(2026, 11, 25, 2), actor=sys.argv[2])
db.dispose()
"""


def test_processes_writing_one_stream_keep_one_chain(any_db, hall_config):
    """Four processes log at once into the one stream of the security log: the head's lock
    lets one link at a time, so the chain has every row once and no fork."""
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, any_db.url, f"p{i}", "40"],
                                  cwd=ROOT, stderr=subprocess.PIPE, text=True)
                 for i in range(4)]
    for p in processes:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    report = verify_database(any_db)
    assert report.ok, [f.text() for f in report.findings]
    with any_db.read() as s:
        seqs = s.scalars(select(SecurityEvent.chain_seq).order_by(SecurityEvent.id)).all()
        writers = set(s.scalars(select(SecurityEvent.actor)))
    assert seqs == list(range(1, 161))
    assert writers == {"p0", "p1", "p2", "p3"}


def test_tickets_taken_at_once_each_start_their_own_stream(any_db, hall_config):
    """Per-ticket streams: fifty kiosks never wait on one another's link (and none is lost)."""
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def kiosk() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                with any_db.write() as s:
                    queue.take_ticket(s, hall_config, "enterprise", OPEN_NOW, ignore_hours=True)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=kiosk) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    report = verify_database(any_db)
    assert report.ok and report.rows == 100 and report.streams == 100


def test_the_root_job_takes_yesterdays_root_once(any_db, hall_config):
    busy_day(any_db, hall_config)
    day = OPEN_NOW.date()
    with any_db.write() as s:
        first = take_root(s, day, OPEN_NOW)
        assert first is not None
    with any_db.write() as s:
        log.record(s, "logout", OPEN_NOW, actor="c00")
    with any_db.write() as s:
        second = take_root(s, day + dt.timedelta(days=1), OPEN_NOW + dt.timedelta(days=1))
        assert second is not None
        assert second.previous == first.root
        assert [h[0] for h in second.heads] == ["security_events"]  # only what moved
        roots = s.scalars(select(AuditRoot).order_by(AuditRoot.id)).all()
    assert [r.day for r in roots] == [day, day + dt.timedelta(days=1)]
    assert verify_database(any_db).ok


@pytest.mark.parametrize("table", ["ticket_events", "security_events"])
def test_guards_still_refuse_a_plain_edit(any_db, hall_config, table):
    busy_day(any_db, hall_config)
    with pytest.raises(Exception, match="append-only"), any_db.engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET chain_hash = 'x'"))


def test_the_command_line(db, hall_config, tmp_path):
    """``python -m hall_web audit verify|roots`` as an operator runs it (``./hall audit``)."""
    with db.write() as s:
        log.record(s, "login", OPEN_NOW, actor="c01")
        take_root(s, OPEN_NOW.date(), OPEN_NOW)
    command = [sys.executable, "-m", "hall_web", "audit"]
    where = ["--config", str(ROOT / "config.toml"), "--database-url", db.url]
    roots = subprocess.run([*command, "roots", *where], cwd=ROOT, capture_output=True,
                           text=True, check=True)
    exported = tmp_path / "roots.json"
    exported.write_text(roots.stdout)
    assert json.loads(roots.stdout)["roots"][0]["day"] == OPEN_NOW.date().isoformat()
    done = subprocess.run([*command, "verify", *where, "--roots", str(exported)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("1 daily roots: intact")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_roots SET root = :r"), {"r": "f" * 64})
    done = subprocess.run([*command, "verify", *where, "--roots", str(exported)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stdout.splitlines()[:2] == [
        "audit: root: audit_roots id=1 (stream root:2026-11-25): the root of 2026-11-25 was "
        "changed",
        "audit: root: audit_roots (stream root:2026-11-25): differs from the exported copy"]


def test_ratings_and_rectification_steps_are_chained(any_db, hall_config):
    """A rating's level and tags and every step of its rectification are linked; 追评 changes
    the rating afterwards and leaves the link valid; an edited level is named."""
    from hall_ops.evaluation import ratings
    from hall_ops.evaluation.models import Rating, RectificationEvent
    from hall_ops.evaluation.ratings import EvaluationRules
    from tests.test_ratings import managed_hall, served

    managed_hall(any_db, OPEN_NOW)
    rules = EvaluationRules.from_config(hall_config)
    tokens = [served(any_db, hall_config, 4, "c04", OPEN_NOW) for _ in range(2)]
    with any_db.write() as s:
        good = ratings.rate_visit(s, rules, tokens[0], 5, OPEN_NOW)
        bad = ratings.rate_visit(s, rules, tokens[1], 1, OPEN_NOW, tags=["long_wait"])
        ratings.add_follow_up(s, rules, good, "窗口很耐心", OPEN_NOW)
        good_id, bad_id = good.id, bad.id
    report = verify_database(any_db)
    assert report.ok, [f.text() for f in report.findings]
    with any_db.read() as s:
        seqs = [r.chain_seq for r in s.scalars(select(Rating).order_by(Rating.id))]
        opened = s.scalars(select(RectificationEvent)).all()
    assert seqs == [1, 2] and [e.chain_seq for e in opened] == [1]  # the bad one opened one
    drop_guards(any_db, "rectification_events")
    with any_db.engine.begin() as conn:
        conn.execute(text("UPDATE ratings SET level = 4 WHERE id = :id"), {"id": bad_id})
        conn.execute(text("UPDATE ratings SET follow_up = '改过' WHERE id = :id"),
                     {"id": good_id})  # not linked: a 追评 is the citizen's later addition
        conn.execute(text("DELETE FROM rectification_events WHERE id = :id"),
                     {"id": opened[0].id})
    found = findings(any_db)
    assert ("changed", "ratings", bad_id, 2) in found
    assert ("no rows", "rectification_events", None, 1) in found  # its head still says 1
    assert len(found) == 2
