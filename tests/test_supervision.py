"""Electronic supervision: cards turn yellow and red as a limit runs out, stand still while the
applicant owes a supplement, are cleared by an extension or a decision (in the name of who
did it), and the supervision page and API show them to the right people."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from hall_ops.audit.verify import verify_database
from hall_ops.cases.intake import get_case, set_item_status
from hall_ops.cases.models import CardEvent, CaseItem
from hall_ops.cases.supervision import extend_limit, supervise, supervision_view
from hall_ops.errors import Conflict, InvalidInput, NotFound
from tests.support.web import hall_app, staff_client
from tests.test_intake import ROOT as REPO
from tests.test_intake import RULES, flat_case, hall  # noqa: F401 (the fixture)


def at(day: int, month: int = 11) -> dt.datetime:
    """10:00 in Shanghai on that day of 2026."""
    return dt.datetime(2026, month, day, 2, 0)


def item_of(db, number: str, code: str) -> CaseItem:
    with db.read() as s:
        return next(i for i in get_case(s, number).items if i.item_code == code)


def run_job(db, now: dt.datetime) -> list[tuple[str, str, str, str | None]]:
    with db.write(origin="deadline job") as s:
        changed = supervise(s, RULES, now)
        return [(s.get(CaseItem, e.case_item_id).item_code, e.to_colour, e.cause, e.actor)
                for e in changed]


def test_a_card_across_a_pause_an_extension_and_a_decision(hall, hall_config):  # noqa: F811
    """BDC-01: five working days from Wednesday 25 November."""
    number = flat_case(hall, hall_config)
    bdc = item_of(hall, number, "BDC-01").id
    # the 0-day deed tax item is due the same day (yellow), the 1-day filing is green
    assert run_job(hall, at(25)) == [("BDC-06", "yellow", "time", None)]
    assert run_job(hall, at(25)) == []  # nothing changed: nothing recorded
    assert ("BDC-01", "yellow", "time", None) in run_job(hall, at(1, 12))  # 4 of 5 days
    with hall.write() as s:
        set_item_status(s, number, "BDC-01", "supplement_requested", "appr-bdc",
                        "缺少完税凭证", now=at(1, 12))
    # a week later the clock still stands at 4 days: still yellow, not red
    assert [c for c in run_job(hall, at(7, 12)) if c[0] == "BDC-01"] == []
    with hall.read() as s:
        card = next(c for c in supervision_view(s, RULES, at(7, 12))["cards"]
                    if c["item_id"] == bdc)
    assert (card["card"], card["paused"], card["used_days"]) == ("yellow", True, 4)
    with hall.write() as s:  # the supplement arrives on Tuesday 8 December
        set_item_status(s, number, "BDC-01", "in_review", "appr-bdc", now=at(8, 12))
    assert [c for c in run_job(hall, at(9, 12)) if c[0] == "BDC-01"] == []  # 5 of 5
    assert ("BDC-01", "red", "time", None) in run_job(hall, at(10, 12))  # 6 of 5
    with hall.write(origin="127.0.0.1") as s:
        extension = extend_limit(s, "bdc", bdc, 3, "需现场勘验", "manager", at(10, 12))
        assert extension.chain_seq == 1
    # 6 of 8 days: green again, cleared by the manager who extended it, when they did
    changes = [c for c in run_job(hall, at(10, 12) + dt.timedelta(minutes=5))
               if c[0] == "BDC-01"]
    assert changes == [("BDC-01", "green", "extended", "manager")]
    assert ("BDC-01", "yellow", "time", None) in run_job(hall, at(11, 12))  # 7 of 8
    with hall.write() as s:
        set_item_status(s, number, "BDC-01", "approved", "appr-bdc", now=at(11, 12))
    assert ("BDC-01", "cleared", "finished", "appr-bdc") in run_job(hall, at(14, 12))
    with hall.read() as s:
        history = s.scalars(select(CardEvent).where(CardEvent.case_item_id == bdc)
                            .order_by(CardEvent.id)).all()
        view = supervision_view(s, RULES, at(14, 12), departments={"bdc"})
    assert [(e.from_colour, e.to_colour) for e in history] == [
        ("green", "yellow"), ("yellow", "red"), ("red", "green"), ("green", "yellow"),
        ("yellow", "cleared")]
    assert history[2].at == extension.at
    assert view["cards"] == []  # nothing of bdc is open
    cleared = view["cleared"][0]
    assert (cleared["item"], cleared["card"], cleared["time_limit_days"],
            cleared["extended_days"]) == ("BDC-01", "cleared", 8, 3)
    assert cleared["extensions"][0]["reason"] == "需现场勘验"
    assert cleared["history"][-1] == {"at": "2026-12-11T02:00:00+00:00", "from": "yellow",
                                      "to": "cleared", "cause": "finished", "by": "appr-bdc"}
    # extensions and card changes are chained like every audit row (Chinese reasons too)
    report = verify_database(hall)
    assert report.ok, [f.text() for f in report.findings]


def test_extensions_are_checked(hall, hall_config):  # noqa: F811
    number = flat_case(hall, hall_config)
    bdc = item_of(hall, number, "BDC-01").id
    with hall.write() as s:
        with pytest.raises(NotFound):  # not an item of this department
            extend_limit(s, "scj", bdc, 2, "理由", "appr-scj", at(26))
        with pytest.raises(InvalidInput):
            extend_limit(s, "bdc", bdc, 2, "  ", "appr-bdc", at(26))
        with pytest.raises(InvalidInput):
            extend_limit(s, "bdc", bdc, 0, "理由", "appr-bdc", at(26))
    with hall.write() as s:
        set_item_status(s, number, "BDC-01", "rejected", "appr-bdc", "材料不符", now=at(26))
    with hall.write() as s, pytest.raises(Conflict):
        extend_limit(s, "bdc", bdc, 2, "理由", "appr-bdc", at(26))


def test_the_page_and_the_api(tmp_path, hall_config):
    app = hall_app(REPO / "config.toml", database_url=f"sqlite:///{tmp_path / 'h.db'}",
                   clock=lambda: at(2, 12), always_open=True)
    db = app.extensions["hall"].db
    from hall_ops.cases.catalogue import load_catalogue

    with db.write() as s:
        load_catalogue(s, REPO / "data" / "catalogue")
    number = flat_case(db, hall_config)
    with db.write() as s:
        supervise(s, app.extensions["hall"].config.intake_rules, at(2, 12))
    bdc = item_of(db, number, "BDC-01").id

    approver = staff_client(app, "appr-bdc")
    mine = approver.get("/api/v1/supervision").json
    assert {c["department"] for c in mine["cards"]} == {"bdc"}  # only their department
    assert mine["cards"][0]["card"] == "yellow"
    manager = staff_client(app, "manager")
    everything = manager.get("/api/v1/supervision").json
    assert {c["department"] for c in everything["cards"]} == {"bdc", "zjj", "swj"}
    assert everything["summary"]["clerks"]["c08"] == {"green": 0, "yellow": 1, "red": 2}
    by_clerk = manager.get("/api/v1/supervision?clerk=c09").json
    assert by_clerk["cards"] == []

    refused = approver.post(f"/api/v1/supervision/bdc/items/{bdc}/extensions",
                            json={"days": 2, "reason": ""})
    assert refused.status_code == 422
    reply = approver.post(f"/api/v1/supervision/bdc/items/{bdc}/extensions",
                          json={"days": 2, "reason": "等待外单位协查", "actor": "someone"})
    assert reply.status_code == 422  # the actor is never a body field
    reply = approver.post(f"/api/v1/supervision/bdc/items/{bdc}/extensions",
                          json={"days": 2, "reason": "等待外单位协查"})
    assert reply.status_code == 201, reply.json
    assert reply.json["extension"]["by"] == "appr-bdc"
    wrong = approver.post(f"/api/v1/supervision/bdc/items/{item_of(db, number, 'BDC-05').id}"
                          "/extensions", json={"days": 2, "reason": "x"})
    assert wrong.status_code == 404  # zjj's item under bdc's address

    page = manager.get("/supervision?lang=en").get_data(as_text=True)
    assert "Electronic supervision" in page and number in page and "+2 working days" in page
    assert 'data-card="yellow"' in page
    assert "2026-12-02 10:00" in page  # the extension's time, hall-local (02:00 UTC)
    page_zh = approver.get("/supervision?lang=zh").get_data(as_text=True)
    assert "电子监察" in page_zh and "等待外单位协查" in page_zh

    roots = manager.get("/api/v1/audit/roots")
    assert roots.status_code == 200
    assert roots.headers["Content-Disposition"] == "attachment; filename=audit-roots.json"
    assert roots.json["roots"] == []
    report = manager.get("/manager/reports?lang=en").get_data(as_text=True)
    assert "daily root hashes" in report
    db.dispose()
