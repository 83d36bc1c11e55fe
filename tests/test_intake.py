"""One-window intake: the case record, shared materials, gaps, hand-off, status and clocks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from hall_ops import queue
from hall_ops.cases.calendar import WorkCalendar
from hall_ops.cases.catalogue import load_catalogue
from hall_ops.cases.intake import (
    Applicant,
    IntakeRefused,
    IntakeRules,
    create_intake,
    get_case,
    record_supplement,
    set_item_status,
)
from hall_ops.cases.models import (
    Case,
    CaseCounter,
    CaseItemEvent,
    CaseMaterial,
    CaseVisit,
    ItemMaterial,
)
from hall_ops.cases.slip import routing_slip
from hall_ops.cases.time_limits import deadline_watch
from hall_ops.config import ConfigError, parse_config
from hall_ops.db import Base
from hall_ops.errors import Conflict, InvalidInput, NotFound, Unauthorized

ROOT = Path(__file__).resolve().parent.parent
D = dt.date
# Wednesday 25 Nov 2026, 10:00 in Shanghai.
NOW = dt.datetime(2026, 11, 25, 2, 0)
TZ = ZoneInfo("Asia/Shanghai")
# New Year 2027 style: 1 Jan (Fri) off, Saturday 2 Jan worked.
RULES = IntakeRules(
    calendar=WorkCalendar(holidays=frozenset({D(2027, 1, 1)}), workdays=frozenset({D(2027, 1, 2)})),
    timezone=TZ,
)
PERSON = Applicant("person", " 张三 ", "330106198507201239", "138-0013-8000")
COMPANY = Applicant("organisation", "福州示例科技有限公司", "91350100m000100y43", "0591-87654321")

# A second-hand flat: transfer registration, contract filing and deed tax, three departments.
FLAT_ITEMS = ["BDC-01", "BDC-05", "BDC-06"]
FLAT_PAPER = ["不动产登记申请书", "不动产权证书", "不动产买卖合同", "契税纳税申报表"]
FLAT_E = ["申请人身份证明"]


@pytest.fixture
def hall(db):
    with db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
    return db


def serve(db, hall_config, window: int, clerk: str, service: str, now: dt.datetime = NOW) -> int:
    """A clerk at the window calls and starts serving a fresh ticket; returns its id."""
    with db.write() as s:
        queue.open_window(s, window, clerk, now)
        queue.take_ticket(s, hall_config, service, now, ignore_hours=True)
        ticket, _ = queue.call_next(s, hall_config, window, clerk, now)
        queue.start_service(s, window, clerk, now)
        return ticket.id


def intake(db, ticket_id, *, window=8, clerk="c08", applicant=PERSON, items=FLAT_ITEMS,
           received=FLAT_PAPER, e_licences=FLAT_E, now=NOW, rules=RULES) -> str:
    with db.write() as s:
        case = create_intake(
            s, rules, ticket_id=ticket_id, window_number=window, clerk_id=clerk,
            applicant=applicant, item_codes=items, received=received, e_licences=e_licences,
            now=now,
        )
        return case.number


def handoffs(db) -> dict[str, dict]:
    """Hand-off messages in the outbox (``hall_ops.cases.handoff``'s table), by idempotency key."""
    outbox = next(
        t for t in Base.metadata.sorted_tables if {"idempotency_key", "payload"} <= set(t.c.keys())
    )
    with db.read() as s:
        rows = s.execute(select(outbox.c.idempotency_key, outbox.c.payload)).all()
    return {key: json.loads(p) if isinstance(p, str) else p for key, p in rows}


def flat_case(hall, hall_config) -> str:
    return intake(hall, serve(hall, hall_config, 8, "c08", "real_estate"))


# ---------------------------------------------------------------- intake


def test_one_case_for_three_departments_with_shared_materials_stored_once(hall, hall_config):
    number = flat_case(hall, hall_config)
    assert number == "SQ20261125-0001"
    with hall.read() as s:
        case = get_case(s, number)
        assert (case.applicant_name, case.applicant_id_number, case.applicant_phone) == (
            "张三", "330106198507201239", "13800138000"
        )
        assert [i.item_code for i in case.items] == FLAT_ITEMS
        assert [i.department_code for i in case.items] == ["bdc", "zjj", "swj"]
        assert [i.status for i in case.items] == ["submitted"] * 3
        names = [m.name_zh for m in case.materials]
        assert len(names) == len(set(names)) == 8
        contract = next(m for m in case.materials if m.name_zh == "不动产买卖合同")
        assert [i.item_code for i in contract.items] == FLAT_ITEMS  # handed in once, used thrice
        assert contract.copies == 3 and contract.key and contract.source == "paper"
        id_card = next(m for m in case.materials if m.name_zh == "申请人身份证明")
        assert id_card.source == "e_licence"
        gaps = {m.name_zh: m.due_on for m in case.materials if m.missing}
        # Accept-with-gaps: non-key materials may follow within 5 working days.
        assert gaps == {"完税凭证": D(2026, 12, 2), "婚姻状况证明": D(2026, 12, 2),
                        "家庭住房情况查询结果": D(2026, 12, 2)}
        # Metrics: one window, four paper documents instead of one set per department.
        assert (case.windows_visited, case.materials_handed_in) == (1, 4)
        assert len(s.scalars(select(CaseVisit)).all()) == 1
        history = s.scalars(select(CaseItemEvent)).all()
        assert [(e.from_status, e.to_status, e.actor) for e in history] == [
            (None, "submitted", "c08")
        ] * 3

    messages = handoffs(hall)
    assert set(messages) == {f"{number}:bdc", f"{number}:swj", f"{number}:zjj"}
    bdc = messages[f"{number}:bdc"]
    assert bdc["case_number"] == number and bdc["department"]["code"] == "bdc"
    assert [i["code"] for i in bdc["items"]] == ["BDC-01"]
    assert bdc["items"][0]["deadline"] == "2026-12-02"
    assert bdc["applicant"]["id_number"] == "330106198507201239"  # the department decides on it
    tax = messages[f"{number}:swj"]
    assert {m["name_zh"] for m in tax["materials"]} == {
        "契税纳税申报表", "申请人身份证明", "不动产买卖合同", "婚姻状况证明", "家庭住房情况查询结果"
    }
    marriage = next(m for m in tax["materials"] if m["name_zh"] == "婚姻状况证明")
    assert marriage["status"] == "missing"


def test_case_numbers_count_per_day_across_windows(hall, hall_config):
    first = intake(hall, serve(hall, hall_config, 8, "c08", "real_estate"))
    second = intake(hall, serve(hall, hall_config, 9, "c09", "real_estate"), window=9, clerk="c09")
    third = intake(hall, serve(hall, hall_config, 4, "c04", "enterprise"), window=4, clerk="c04",
                   applicant=COMPANY, items=["QY-07"],
                   received=["公章刻制申请表", "经办人身份证明及授权委托书"],
                   e_licences=["营业执照", "法定代表人身份证明"])
    tomorrow = NOW + dt.timedelta(days=1)
    with hall.write() as s:
        queue.finish(s, 8, "c08", tomorrow)
    fourth = intake(hall, serve(hall, hall_config, 8, "c08", "real_estate", tomorrow), now=tomorrow)
    # 07:30 on 26 Nov in Shanghai is 23:30 on the 25th in UTC: the hall's day counts.
    late = NOW.replace(hour=23, minute=30)
    with hall.write() as s:
        queue.finish(s, 9, "c09", late)
    fifth = intake(hall, serve(hall, hall_config, 9, "c09", "real_estate", late),
                   window=9, clerk="c09", now=late)
    assert [first, second, third, fourth, fifth] == [
        "SQ20261125-0001", "SQ20261125-0002", "SQ20261125-0003", "SQ20261126-0001",
        "SQ20261126-0002",
    ]


def test_two_cases_for_one_ticket(hall, hall_config):
    ticket = serve(hall, hall_config, 8, "c08", "real_estate")
    assert intake(hall, ticket) != intake(hall, ticket, items=["BDC-09"],
                                          received=["不动产登记资料查询申请书"])


def test_missing_key_material_refuses_and_leaves_no_trace(hall, hall_config):
    ticket = serve(hall, hall_config, 8, "c08", "real_estate")
    with pytest.raises(IntakeRefused) as err, hall.write() as s:
        create_intake(
            s, RULES, ticket_id=ticket, window_number=8, clerk_id="c08", applicant=PERSON,
            item_codes=FLAT_ITEMS, received=["不动产登记申请书", "不动产权证书", "契税纳税申报表"],
            e_licences=FLAT_E, now=NOW,
        )
    refused = err.value
    assert refused.code == "key_material_missing" and refused.status == 422
    assert refused.missing == [
        {"item": "BDC-01", "item_name_zh": "国有建设用地使用权及房屋所有权转移登记",
         "material": "不动产买卖合同"},
        {"item": "BDC-05", "item_name_zh": "存量房买卖合同网签备案", "material": "不动产买卖合同"},
        {"item": "BDC-06", "item_name_zh": "房屋交易契税申报", "material": "不动产买卖合同"},
    ]
    assert "BDC-05 存量房买卖合同网签备案: 不动产买卖合同" in refused.message
    assert refused.to_dict()["missing"] == refused.missing
    with hall.read() as s:
        assert s.scalars(select(Case)).all() == []
        assert s.scalars(select(CaseCounter)).all() == []
    assert handoffs(hall) == {}
    assert intake(hall, ticket) == "SQ20261125-0001"


def test_shared_material_comes_as_e_licence_only_if_every_item_accepts_it(hall, hall_config):
    with hall.write() as s:
        tax_rule = s.scalars(select(ItemMaterial).where(
            ItemMaterial.item_code == "BDC-06", ItemMaterial.name_zh == "婚姻状况证明")).one()
        tax_rule.e_licence = False  # say the tax office wants the paper certificate
    ticket = serve(hall, hall_config, 8, "c08", "real_estate")
    with pytest.raises(InvalidInput) as err:
        intake(hall, ticket, e_licences=[*FLAT_E, "婚姻状况证明"])
    assert err.value.details["materials"] == ["婚姻状况证明"]
    number = intake(hall, ticket, items=["BDC-01", "BDC-05"], e_licences=[*FLAT_E, "婚姻状况证明"],
                    received=FLAT_PAPER[:3])
    with hall.read() as s:
        marriage = next(m for m in get_case(s, number).materials if m.name_zh == "婚姻状况证明")
        assert (marriage.source, marriage.missing) == ("e_licence", False)


def test_record_and_hand_off_commit_together_or_not_at_all(hall, hall_config):
    ticket = serve(hall, hall_config, 8, "c08", "real_estate")
    with pytest.raises(RuntimeError), hall.write() as s:
        create_intake(s, RULES, ticket_id=ticket, window_number=8, clerk_id="c08", applicant=PERSON,
                      item_codes=FLAT_ITEMS, received=FLAT_PAPER, e_licences=FLAT_E, now=NOW)
        raise RuntimeError("the printer jammed before commit")
    with hall.read() as s:
        assert s.scalars(select(Case)).all() == []
    assert handoffs(hall) == {}


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        ({"applicant": dataclasses.replace(PERSON, id_number="330106198507201238")}, InvalidInput,
         "invalid_resident_id"),
        ({"applicant": dataclasses.replace(PERSON, phone="12345")}, InvalidInput, "invalid_phone"),
        ({"applicant": dataclasses.replace(PERSON, name="  ")}, InvalidInput, "invalid_name"),
        ({"applicant": dataclasses.replace(COMPANY, id_number="91350100M000100Y44")}, InvalidInput,
         "invalid_credit_code"),
        ({"applicant": dataclasses.replace(PERSON, kind="robot")}, InvalidInput,
         "invalid_applicant"),
        ({"items": []}, InvalidInput, "no_items"),
        ({"items": ["BDC-01", "BDC-01"]}, InvalidInput, "duplicate_item"),
        ({"items": ["BDC-99"]}, NotFound, "unknown_item"),
        ({"items": ["BDC-01", "QY-01"]}, InvalidInput, "item_not_at_window"),
        ({"received": [*FLAT_PAPER, "户口簿"]}, InvalidInput, "unknown_material"),
        ({"received": [*FLAT_PAPER, "申请人身份证明"]}, InvalidInput, "material_twice"),
        ({"received": FLAT_PAPER[:2] + FLAT_PAPER[3:], "e_licences": [*FLAT_E, "不动产买卖合同"]},
         InvalidInput, "e_licence_not_accepted"),
        ({"clerk": "c09"}, Unauthorized, "not_at_window"),
        ({"window": 99}, NotFound, "unknown_window"),
    ],
)
def test_bad_intake_is_refused_before_anything_is_written(hall, hall_config, changes, error, code):
    ticket = serve(hall, hall_config, 8, "c08", "real_estate")
    with pytest.raises(error) as err:
        intake(hall, ticket, **changes)
    assert err.value.code == code
    with hall.read() as s:
        assert s.scalars(select(Case)).all() == []


def test_intake_needs_the_ticket_in_hand(hall, hall_config):
    ticket = serve(hall, hall_config, 8, "c08", "real_estate")
    with hall.write() as s:
        queue.finish(s, 8, "c08", NOW)
    with pytest.raises(Conflict) as err:
        intake(hall, ticket)
    assert err.value.code == "ticket_not_current"
    other = serve(hall, hall_config, 9, "c09", "real_estate")
    with pytest.raises(Conflict):  # served at window 9, not at 8
        intake(hall, other)


# ---------------------------------------------------------------- after intake


def test_supplements_fill_gaps_and_count_return_trips(hall, hall_config):
    number = flat_case(hall, hall_config)
    with hall.write() as s:  # posted: no visit
        record_supplement(s, number, "完税凭证", NOW + dt.timedelta(days=1))
    later = NOW + dt.timedelta(days=2)
    with hall.write() as s:
        queue.finish(s, 8, "c08", later)
    back = serve(hall, hall_config, 10, "c10", "real_estate", later)
    with hall.write() as s:
        record_supplement(s, number, "婚姻状况证明", later, ticket_id=back, e_licence=True)
        record_supplement(s, number, "家庭住房情况查询结果", later, ticket_id=back)
    with hall.read() as s:
        case = get_case(s, number)
        assert not [m for m in case.materials if m.missing]
        assert (case.windows_visited, case.materials_handed_in) == (2, 6)
        visits = s.scalars(select(CaseVisit).order_by(CaseVisit.id)).all()
        assert [(v.window_number, v.purpose) for v in visits] == [(8, "intake"), (10, "supplement")]
        marriage = next(m for m in case.materials if m.name_zh == "婚姻状况证明")
        assert marriage.source == "e_licence"
    with pytest.raises(Conflict) as err, hall.write() as s:
        record_supplement(s, number, "完税凭证", later)
    assert err.value.code == "already_received"
    with pytest.raises(NotFound), hall.write() as s:
        record_supplement(s, number, "户口簿", later)
    with pytest.raises(NotFound), hall.write() as s:
        record_supplement(s, "SQ20991231-0001", "完税凭证", later)


def test_e_licence_supplement_only_where_the_guide_allows_it(hall, hall_config):
    number = intake(hall, serve(hall, hall_config, 8, "c08", "real_estate"), items=["BDC-06"],
                    received=["契税纳税申报表", "不动产买卖合同"])
    with pytest.raises(InvalidInput) as err, hall.write() as s:
        record_supplement(s, number, "家庭住房情况查询结果", NOW, e_licence=True)
    assert err.value.code == "e_licence_not_accepted"


def test_item_life_cycle_and_history(hall, hall_config):
    number = flat_case(hall, hall_config)
    steps = [("in_review", None), ("supplement_requested", "合同页码缺失"), ("in_review", None),
             ("approved", None), ("delivered", None)]
    for i, (status, reason) in enumerate(steps):
        with hall.write() as s:
            item = set_item_status(s, number, "BDC-01", status, "approver-7", reason,
                                   now=NOW + dt.timedelta(hours=i + 1))
            assert item.status == status
    with hall.read() as s:
        case = get_case(s, number)
        item = case.items[0]
        assert item.decided_at == NOW + dt.timedelta(hours=4)
        assert [(e.from_status, e.to_status) for e in item.events] == [
            (None, "submitted"), ("submitted", "in_review"), ("in_review", "supplement_requested"),
            ("supplement_requested", "in_review"), ("in_review", "approved"),
            ("approved", "delivered"),
        ]
        assert item.events[2].reason == "合同页码缺失"
        # The other departments' items run in parallel, untouched.
        assert [i.status for i in case.items[1:]] == ["submitted", "submitted"]


@pytest.mark.parametrize(
    ("path", "status", "reason", "error", "code"),
    [
        ([], "approved", None, Conflict, "invalid_transition"),
        ([], "delivered", None, Conflict, "invalid_transition"),
        (["in_review"], "submitted", None, Conflict, "invalid_transition"),
        ([("rejected", "材料虚假")], "in_review", None, Conflict, "invalid_transition"),
        ([], "rejected", None, InvalidInput, "reason_required"),
        ([], "supplement_requested", "  ", InvalidInput, "reason_required"),
        ([], "archived", None, InvalidInput, "invalid_status"),
    ],
)
def test_bad_transitions(hall, hall_config, path, status, reason, error, code):
    number = flat_case(hall, hall_config)
    for step in path:
        to, why = step if isinstance(step, tuple) else (step, None)
        with hall.write() as s:
            set_item_status(s, number, "BDC-05", to, "approver-1", why, now=NOW)
    with pytest.raises(error) as err, hall.write() as s:
        set_item_status(s, number, "BDC-05", status, "approver-1", reason, now=NOW)
    assert err.value.code == code


def test_unknown_case_item_and_missing_actor(hall, hall_config):
    number = flat_case(hall, hall_config)
    with pytest.raises(NotFound), hall.write() as s:
        set_item_status(s, number, "QY-01", "in_review", "a", now=NOW)
    with pytest.raises(InvalidInput) as err, hall.write() as s:
        set_item_status(s, number, "BDC-01", "in_review", " ", now=NOW)
    assert err.value.code == "actor_required"


def test_status_history_cannot_be_rewritten(hall, hall_config):
    flat_case(hall, hall_config)
    with pytest.raises(Exception, match="append-only"), hall.write() as s:
        s.execute(text("UPDATE case_item_events SET actor = 'someone else'"))
    with pytest.raises(Exception, match="append-only"), hall.write() as s:
        s.execute(text("DELETE FROM case_item_events"))


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    """Hall-local time of day → naive UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ).astimezone(dt.UTC).replace(
        tzinfo=None
    )


def test_the_clock_stops_while_a_supplement_is_outstanding(hall, hall_config):
    number = flat_case(hall, hall_config)  # accepted Wed 25 Nov; BDC-01 has 5 working days

    def clock(now):
        with hall.read() as s:
            slip = routing_slip(s, number, rules=RULES, now=now)
        return next(i for i in slip["items"] if i["code"] == "BDC-01")

    assert clock(NOW)["deadline"] == "2026-12-02"
    with hall.write() as s:
        set_item_status(s, number, "BDC-01", "in_review", "a", now=_at(D(2026, 11, 25), 14))
        # Requested late on Thursday 26th; the applicant brings it on Monday 30th.
        set_item_status(s, number, "BDC-01", "supplement_requested", "a", "缺少共有人同意书",
                        now=_at(D(2026, 11, 26), 23))
    paused = clock(_at(D(2026, 12, 10)))
    assert (paused["paused"], paused["deadline"], paused["used_days"]) == (True, None, 1)
    assert not paused["overdue"]
    with hall.write() as s:
        set_item_status(s, number, "BDC-01", "in_review", "a", now=_at(D(2026, 11, 30), 9))
    resumed = clock(_at(D(2026, 12, 2)))
    # Friday 27th and Monday 30th did not count: 2 Dec moves two working days to 4 Dec.
    assert (resumed["paused"], resumed["deadline"]) == (False, "2026-12-04")
    assert resumed["used_days"] == 3
    assert (resumed["warning"], resumed["overdue"]) == (False, False)
    assert clock(_at(D(2026, 12, 3)))["warning"] is True  # 4 of 5 used
    assert clock(_at(D(2026, 12, 7)))["overdue"] is True
    with hall.write() as s:
        set_item_status(s, number, "BDC-01", "approved", "a", now=_at(D(2026, 12, 4), 16))
    decided = clock(_at(D(2027, 3, 1)))  # measured on its decision day, for ever
    assert (decided["used_days"], decided["overdue"], decided["status"]) == (5, False, "approved")


def test_deadline_watch_lists_warnings_and_overdue_items(hall, hall_config):
    number = flat_case(hall, hall_config)
    # BDC-05 (1 day) and BDC-06 (0 days) are due today; BDC-01 (5 days) on 2 Dec.
    watch = deadline_watch_at(hall, NOW)
    assert [(w["item"], w["warning"], w["overdue"]) for w in watch] == [("BDC-06", True, False)]
    watch = deadline_watch_at(hall, _at(D(2026, 11, 27)))
    assert [(w["item"], w["overdue"]) for w in watch] == [("BDC-06", True), ("BDC-05", True)]
    with hall.write() as s:
        set_item_status(s, number, "BDC-06", "in_review", "a", now=NOW)
        set_item_status(s, number, "BDC-06", "approved", "a", now=NOW)
    watch = deadline_watch_at(hall, _at(D(2026, 12, 1)))
    assert [(w["item"], w["overdue"], w["warning"]) for w in watch] == [
        ("BDC-05", True, False), ("BDC-01", False, True)
    ]
    assert watch[1]["case_number"] == number and watch[1]["department"]["code"] == "bdc"


def deadline_watch_at(db, now):
    with db.read() as s:
        return deadline_watch(s, RULES, now)


# ---------------------------------------------------------------- routing slip


def test_routing_slip_masks_the_applicant_and_lists_gaps(hall, hall_config):
    number = flat_case(hall, hall_config)
    with hall.read() as s:
        slip = routing_slip(s, number, rules=RULES, now=NOW)
    assert slip["case_number"] == number and slip["accepted_on"] == "2026-11-25"
    assert slip["applicant"] == {"kind": "person", "name": "张*", "id_number": "3" + "*" * 16 + "9",
                                 "phone": "138****8000"}
    assert [d["code"] for d in slip["departments"]] == ["bdc", "zjj", "swj"]
    assert slip["departments"][0] == {
        "code": "bdc", "name_zh": "不动产登记中心", "name_en": "Real Estate Registration Centre",
        "items": ["BDC-01"]
    }
    assert [(i["code"], i["deadline"]) for i in slip["items"]] == [
        ("BDC-01", "2026-12-02"), ("BDC-05", "2026-11-26"), ("BDC-06", "2026-11-25")
    ]
    assert {m["name_zh"] for m in slip["materials_received"]} == {*FLAT_PAPER, *FLAT_E}
    missing = {m["name_zh"]: m for m in slip["materials_missing"]}
    assert set(missing) == {"完税凭证", "婚姻状况证明", "家庭住房情况查询结果"}
    assert missing["婚姻状况证明"]["due_on"] == "2026-12-02"
    assert missing["婚姻状况证明"]["items"] == FLAT_ITEMS
    assert not missing["婚姻状况证明"]["overdue"]
    # 15 materials across the three guides, 8 distinct: 7 not handed in again.
    assert slip["materials_saved_by_sharing"] == 7
    assert (slip["windows_visited"], slip["materials_handed_in"]) == (1, 4)
    with hall.read() as s:
        late = routing_slip(s, number, rules=RULES, now=_at(D(2026, 12, 3)))
    assert all(m["overdue"] for m in late["materials_missing"])
    with pytest.raises(NotFound), hall.read() as s:
        routing_slip(s, "SQ20261125-0999", rules=RULES, now=NOW)


def test_routing_slip_of_an_organisation_keeps_public_registration_data(hall, hall_config):
    ticket = serve(hall, hall_config, 4, "c04", "enterprise")
    number = intake(hall, ticket, window=4, clerk="c04", applicant=COMPANY,
                    items=["QY-06", "QY-07", "QY-08"],
                    received=["食品经营许可申请书", "经营场所平面图", "公章刻制申请表",
                              "新办纳税人涉税事项申请表", "经办人身份证明及授权委托书"],
                    e_licences=["营业执照", "法定代表人身份证明"])
    with hall.read() as s:
        slip = routing_slip(s, number, rules=RULES, now=NOW)
        case = get_case(s, number)
        licence = next(m for m in case.materials if m.name_zh == "营业执照")
        assert [i.item_code for i in licence.items] == ["QY-06", "QY-07", "QY-08"]
    assert slip["applicant"] == {"kind": "organisation", "name": "福州示例科技有限公司",
                                 "id_number": "91350100M000100Y43", "phone": "0591****4321"}
    assert [d["code"] for d in slip["departments"]] == ["scj", "gaj", "swj"]
    assert slip["materials_handed_in"] == 5
    assert set(handoffs(hall)) == {f"{number}:scj", f"{number}:gaj", f"{number}:swj"}


def test_gap_deadline_skips_holidays_and_is_configurable(hall, hall_config):
    data = dict(hall_config.raw)
    data["calendar"] = {"holidays": ["2027-01-01"], "workdays": ["2027-01-02"]}
    data["intake"] = {"supplement_working_days": 3}
    rules = IntakeRules.from_config(parse_config(data, ROOT))
    assert rules.supplement_working_days == 3 and rules.calendar.is_working_day(D(2027, 1, 2))
    new_year_eve = _at(D(2026, 12, 30))
    ticket = serve(hall, hall_config, 8, "c08", "real_estate", new_year_eve)
    number = intake(hall, ticket, now=new_year_eve, rules=rules)
    with hall.read() as s:
        dues = {m.due_on for m in s.scalars(select(CaseMaterial)) if m.missing}
        # 31 Dec, (1 Jan off), 2 Jan make-up Saturday, 4 Jan.
        assert dues == {D(2027, 1, 4)}
        slip = routing_slip(s, number, rules=rules, now=new_year_eve)
    assert slip["items"][0]["deadline"] == "2027-01-06"  # 31 Dec; 2, 4, 5, 6 Jan


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"intake": {"supplement_working_days": 0}}, "supplement_working_days"),
        ({"intake": {"warning_fraction": 1.5}}, "warning_fraction"),
        ({"intake": {"grace": 1}}, "unknown key"),
        ({"calendar": {"workdays": ["2026-12-01"]}}, "weekend"),
    ],
)
def test_bad_intake_config(hall_config, section, message):
    with pytest.raises(ConfigError, match=message):
        IntakeRules.from_config(parse_config({**hall_config.raw, **section}, ROOT))


# ---------------------------------------------------------------- concurrency


def test_windows_accepting_at_once_never_share_a_case_number(any_db, hall_config):
    with any_db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
    windows = [(8, "c08"), (9, "c09"), (10, "c10"), (13, "c13")]
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def window_worker(window: int, clerk: str) -> None:
        try:
            for i in range(5):
                now = NOW + dt.timedelta(seconds=i)
                with any_db.write() as s:
                    queue.open_window(s, window, clerk, now)
                    queue.take_ticket(s, hall_config, "real_estate", now, ignore_hours=True)
                    ticket, _ = queue.call_next(s, hall_config, window, clerk, now)
                    queue.start_service(s, window, clerk, now)
                number = intake(any_db, ticket.id, window=window, clerk=clerk, items=["BDC-09"],
                                received=["不动产登记资料查询申请书"],
                                e_licences=["申请人身份证明"], now=now)
                with any_db.write() as s:
                    queue.finish(s, window, clerk, now)
                with lock:
                    numbers.append(number)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=window_worker, args=w) for w in windows]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(numbers) == [f"SQ20261125-{n:04d}" for n in range(1, 21)]
    assert len(handoffs(any_db)) == 20
