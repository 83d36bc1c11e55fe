"""好差评: the five levels and their tags, one rating per visit and per item, 追评, the rating
link; the bad-rating loop (15 working days on the hall's calendar, call-back, answer, appeal);
the figures; alerts for late rectifications."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select, text

from hall_ops import queue
from hall_ops.cases.catalogue import load_catalogue
from hall_ops.cases.intake import set_item_status
from hall_ops.errors import Conflict, Forbidden, InvalidInput, NotFound
from hall_ops.evaluation import figures, ratings, rectification
from hall_ops.evaluation.models import Rating, Rectification, RectificationEvent
from hall_ops.evaluation.ratings import EvaluationRules
from hall_ops.floor.alerts import build_alerts
from hall_ops.staff import accounts
from tests.conftest import ROOT
from tests.support.web import CHEAP
from tests.test_intake import FLAT_ITEMS, flat_case

D = dt.date
# Wednesday 27 Jan 2027, 10:00 in Shanghai: the Spring Festival holidays of config.toml
# (5, 8–11 Feb off, Saturday 13 Feb worked) fall inside the 15 working days.
JAN27 = dt.datetime(2027, 1, 27, 2, 0)


@pytest.fixture
def rules(hall_config) -> EvaluationRules:
    return EvaluationRules.from_config(hall_config)


def managed_hall(db, now: dt.datetime):
    """The hall with its catalogue and three managers (wang.zr, li.bdc, zhao.jc)."""
    with db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
        for login, name in (("wang.zr", "王主任"), ("li.bdc", "李科长"), ("zhao.jc", "赵监察")):
            accounts.add_staff(s, "test", login, name, now, CHEAP, password="long enough")
            accounts.grant_role(s, "test", login, "manager", now, CHEAP)
    return db


@pytest.fixture
def hall(any_db, clock):
    """On SQLite and PostgreSQL."""
    return managed_hall(any_db, clock.now)


def served(db, hall_config, window: int, clerk: str, now: dt.datetime) -> str:
    """A ticket served and finished at ``window`` by ``clerk``; its token."""
    with db.write() as s:
        queue.open_window(s, window, clerk, now)
        token = queue.take_ticket(s, hall_config, "enterprise", now,
                                  ignore_hours=True).status_token
        queue.call_next(s, hall_config, window, clerk, now)
        queue.start_service(s, window, clerk, now)
        queue.finish(s, window, clerk, now)
        queue.close_window(s, window, clerk, now)
    return token


def decide(db, number: str, item: str, now: dt.datetime) -> None:
    with db.write() as s:
        set_item_status(s, number, item, "in_review", "审批员", now=now)
        set_item_status(s, number, item, "approved", "审批员", now=now)


def test_levels_tags_and_one_rating_per_visit(hall, hall_config, rules, clock):
    with hall.write() as s:
        queue.open_window(s, 4, "c01", clock.now)
        token = queue.take_ticket(s, hall_config, "enterprise", clock.now).status_token
    with pytest.raises(Conflict) as early, hall.write() as s:
        ratings.rate_visit(s, rules, token, 5, clock.now)
    assert early.value.code == "not_finished"
    with hall.write() as s:
        queue.call_next(s, hall_config, 4, "c01", clock.now)
        queue.start_service(s, 4, "c01", clock.now)
        queue.finish(s, 4, "c01", clock.now)
    refusals = [(0, (), "invalid_level"), (6, (), "invalid_level"),
                (2, (), "tags_required"), (5, ("attitude",), "invalid_tags"),
                (1, ("rude",), "invalid_tags")]
    for level, tags, code in refusals:
        with pytest.raises(InvalidInput) as refused, hall.write() as s:
            ratings.rate_visit(s, rules, token, level, clock.now, tags=tags)
        assert refused.value.code == code, (level, tags)
    with hall.write() as s:
        rating = ratings.rate_visit(s, rules, token, 3, clock.now, tags=["long_wait"],
                                    comment=" 等太久 ", channel="window_pad")
        assert (rating.window_number, rating.clerk_id, rating.comment, rating.channel) == (
            4, "c01", "等太久", "window_pad")
        assert ratings.level_code(rating.level) == "basic"
    # one rating per visit, whatever the channel
    with pytest.raises(Conflict) as again, hall.write() as s:
        ratings.rate_visit(s, rules, token, 5, clock.now, channel="kiosk")
    assert again.value.code == "already_rated"
    with hall.read() as s:  # 基本满意 is a good rating: no rectification
        assert s.scalars(select(Rectification)).all() == []
        assert ratings.awaiting_pad_rating(s, 4, clock.now) is None


def test_follow_up_once_within_the_set_days(hall, hall_config, rules, clock):
    token = served(hall, hall_config, 4, "c01", clock.now)
    with hall.write() as s:
        ratings.rate_visit(s, rules, token, 4, clock.now)
    late = clock.now + dt.timedelta(days=rules.follow_up_days, minutes=1)
    with pytest.raises(Conflict) as closed, hall.write() as s:
        ratings.add_follow_up(s, rules, ratings.rating_of_ticket(s, token), "补充", late)
    assert closed.value.code == "follow_up_closed"
    in_time = clock.now + dt.timedelta(days=rules.follow_up_days - 1)
    with hall.write() as s:
        rating = ratings.add_follow_up(s, rules, ratings.rating_of_ticket(s, token),
                                       " 窗口主动帮我复印 ", in_time)
        assert (rating.follow_up, rating.level) == ("窗口主动帮我复印", 4)
    with pytest.raises(Conflict) as twice, hall.write() as s:
        ratings.add_follow_up(s, rules, ratings.rating_of_ticket(s, token), "再来", in_time)
    assert twice.value.code == "already_followed_up"


def test_the_deadline_is_15_working_days_across_a_holiday_and_a_make_up_day(
        hall, hall_config, rules):
    token = served(hall, hall_config, 4, "c01", JAN27)
    with hall.write() as s:
        rating = ratings.rate_visit(s, rules, token, 1, JAN27, tags=["attitude"])
        row = s.scalars(select(Rectification).where(Rectification.rating_id == rating.id)).one()
        # 28, 29 Jan; 1–4 Feb; (5, 8–11 off) 12, Sat 13 (make-up); 15–19, 22, 23 Feb.
        assert row.due_on == D(2027, 2, 23)
        # weekends alone would have said 17 Feb; the holidays and the make-up day move it
        assert rules.calendar.working_days_between(D(2027, 1, 27), row.due_on) == 15
        assert row.owner == "li.bdc"  # a visit has no department; no hall_manager: first by login
        assert (row.status, row.clerk_id, row.window_number) == ("open", "c01", 4)
        assert rectification.overdue_count(s, D(2027, 2, 23)) == 0
        assert rectification.overdue_count(s, D(2027, 2, 24)) == 1
    alerts = build_alerts({"services": []}, [], [], 15, late_rectifications=1)
    assert alerts == [{"kind": "rectification_overdue", "severity": "critical", "count": 1}]


def test_the_owner_is_the_departments_manager_else_the_halls(hall, hall_config, rules, clock):
    number = flat_case(hall, hall_config)
    rules = dataclasses.replace(rules, department_managers={"bdc": "li.bdc", "zjj": "nobody"},
                                hall_manager="wang.zr")
    for code in FLAT_ITEMS:
        decide(hall, number, code, clock.now)
    with hall.write() as s:
        for code in FLAT_ITEMS:
            ratings.rate_item(s, rules, number, code, 2, clock.now, tags=["many_trips"])
        owners = dict(s.execute(select(Rectification.department_code, Rectification.owner)).all())
    # zjj names a login that is no manager: the hall's manager owns it
    assert owners == {"bdc": "li.bdc", "zjj": "wang.zr", "swj": "wang.zr"}


def test_an_item_is_rated_once_decided_through_the_signed_link(hall, hall_config, rules, clock):
    number = flat_case(hall, hall_config)
    link = ratings.link_token("secret", number, rules, clock.now)
    assert ratings.link_case("secret", link, clock.now) == number
    with pytest.raises(NotFound):
        ratings.link_case("other secret", link, clock.now)
    with pytest.raises(NotFound):
        ratings.link_case("secret", link[:-2] + "xx", clock.now)
    with pytest.raises(Conflict) as expired:
        ratings.link_case("secret", link, clock.now + dt.timedelta(days=rules.link_days, hours=1))
    assert expired.value.code == "rating_link_expired"
    with pytest.raises(Conflict) as undecided, hall.write() as s:
        ratings.rate_item(s, rules, number, "BDC-01", 5, clock.now)
    assert undecided.value.code == "not_decided"
    decide(hall, number, "BDC-01", clock.now)
    with hall.write() as s:
        rating = ratings.rate_item(s, rules, number, "BDC-01", 5, clock.now)
        assert (rating.subject, rating.department_code, rating.clerk_id, rating.channel) == (
            "item", "bdc", "c08", "sms_link")
    with pytest.raises(Conflict), hall.write() as s:
        ratings.rate_item(s, rules, number, "BDC-01", 1, clock.now, tags=["other"])
    with hall.read() as s:
        items = ratings.item_ratings(s, rules, number, clock.now)
    assert [(i["item_code"], i["rateable"], bool(i["rating"])) for i in items] == [
        ("BDC-01", False, True), ("BDC-05", False, False), ("BDC-06", False, False)]


def close_loop(db, rules, rect_id: int, owner: str, at: dt.datetime) -> Rectification:
    with db.write() as s:
        rectification.act(s, rules, rect_id, "rectify", owner, at, text="窗口补充一次性告知单")
        rectification.act(s, rules, rect_id, "call_back", owner, at, reached=True,
                          text="已电话联系，群众认可")
        return rectification.act(s, rules, rect_id, "answer", owner, at,
                                 text="已整改，欢迎再次监督")


def test_the_loop_closes_on_time_and_every_step_names_its_actor(hall, hall_config, rules, clock):
    token = served(hall, hall_config, 4, "c01", clock.now)
    with hall.write() as s:
        rating = ratings.rate_visit(s, rules, token, 2, clock.now, tags=["unclear_guidance"])
        rect_id = s.scalars(select(Rectification.id)).one()
        owner = s.get(Rectification, rect_id).owner
    assert owner == "li.bdc"  # the first manager by login: no department for a visit
    with pytest.raises(Forbidden) as stranger, hall.write() as s:
        rectification.act(s, rules, rect_id, "rectify", "wang.zr", clock.now, text="x")
    assert stranger.value.code == "not_owner"
    with pytest.raises(InvalidInput), hall.write() as s:
        rectification.act(s, rules, rect_id, "call_back", owner, clock.now)  # reached?
    later = clock.now + dt.timedelta(days=3)
    row = close_loop(hall, rules, rect_id, owner, later)
    assert (row.status, row.closed_on <= row.due_on) == ("closed", True)
    with pytest.raises(Conflict), hall.write() as s:
        rectification.act(s, rules, rect_id, "answer", owner, later, text="again")
    with hall.read() as s:
        trail = [(e.kind, e.actor) for e in s.scalars(select(RectificationEvent)
                                                      .order_by(RectificationEvent.id))]
        view = rectification.view(s, s.get(Rectification, rect_id), D(2026, 12, 1), events=True)
    assert trail == [("opened", None), ("rectified", owner), ("called_back", owner),
                     ("answered", owner), ("closed", None)]
    assert view["on_time"] and view["rating"]["id"] == rating.id and view["citizen"] == {
        "name": None, "phone": None}  # a visit without a case: nobody to look up
    with hall.write() as s, pytest.raises(Exception, match="append-only"):
        s.execute(text("UPDATE rectification_events SET actor = 'mallory'"))
    day = D(2026, 11, 25)
    with hall.read() as s:
        [hall_row] = figures.figures(s, rules, day, day, "hall", D(2026, 12, 1))
    assert (hall_row.finished, hall_row.rated, hall_row.bad, hall_row.on_time_rate,
            hall_row.call_back_rate) == (1, 1, 1, 1.0, 1.0)


def clerk_figures(db, rules, day: dt.date) -> figures.FigureRow:
    with db.read() as s:
        [row] = [r for r in figures.figures(s, rules, day, day, "clerk", day) if r.key == "c01"]
    return row


def test_an_accepted_appeal_leaves_the_figures_and_stays_in_the_record(
        hall, hall_config, rules, clock):
    tokens = [served(hall, hall_config, 4, "c01", clock.now) for _ in range(3)]
    with hall.write() as s:
        for token, (level, tags) in zip(tokens, ((5, []), (1, ["attitude"]), (2, ["slow_service"])),
                                        strict=True):
            ratings.rate_visit(s, rules, token, level, clock.now, tags=tags)
        first, second = s.scalars(select(Rectification.id).order_by(Rectification.id)).all()
    day = D(2026, 11, 25)
    before = clerk_figures(hall, rules, day)
    assert (before.ratings, before.good, before.bad, before.good_rate) == (3, 1, 2, 0.3333)

    with pytest.raises(Forbidden) as other, hall.write() as s:
        rectification.appeal(s, first, "c02", "不是我办的", "排班表", clock.now)
    assert other.value.code == "not_your_rating"
    with hall.write() as s:
        rectification.appeal(s, first, "c01", "群众误评：系统停机不在窗口",
                             "机房停机通知 2026-11-25", clock.now)
        rectification.appeal(s, second, "c01", "已当场办结", "业务系统办结记录", clock.now)
    with pytest.raises(Conflict) as twice, hall.write() as s:
        rectification.appeal(s, first, "c01", "再申诉", "无", clock.now)
    assert twice.value.code == "already_appealed"

    with hall.write() as s:
        rectification.decide_appeal(s, rules, first, True, "zhao.jc", "停机通知属实", clock.now)
        rectification.decide_appeal(s, rules, second, False, "zhao.jc", "记录显示未办结",
                                    clock.now)
    after = clerk_figures(hall, rules, day)
    assert (after.ratings, after.good, after.bad, after.excluded, after.good_rate) == (
        2, 1, 1, 1, 0.5)
    with hall.read() as s:  # the record keeps both bad ratings, levels unchanged
        kept = s.execute(select(Rating.level, Rating.excluded).order_by(Rating.id)).all()
        assert [tuple(r) for r in kept] == [(5, False), (1, True), (2, False)]
        accepted, rejected = (s.get(Rectification, first), s.get(Rectification, second))
        assert (accepted.appeal_status, accepted.appeal_decided_by) == ("accepted", "zhao.jc")
        assert rejected.appeal_status == "rejected"
    # an accepted appeal settles the rectification: call-back and answer close it
    with hall.write() as s:
        owner = s.get(Rectification, first).owner
        rectification.act(s, rules, first, "call_back", owner, clock.now, reached=True)
        row = rectification.act(s, rules, first, "answer", owner, clock.now, text="经核实…")
        assert (row.status, row.measures) == ("closed", None)


def test_without_any_manager_the_first_to_act_takes_the_rectification(db, hall_config, rules,
                                                                       clock):
    token = served(db, hall_config, 4, "c01", clock.now)
    with db.write() as s:
        ratings.rate_visit(s, rules, token, 1, clock.now, tags=["other"])
        rect_id = s.scalars(select(Rectification.id)).one()
        assert s.get(Rectification, rect_id).owner is None
    later = clock.now + dt.timedelta(hours=2)
    with db.write() as s:
        row = rectification.act(s, rules, rect_id, "rectify", "wang.zr", later, text="培训")
        assert row.owner == "wang.zr"
        taken = s.scalars(select(RectificationEvent).where(
            RectificationEvent.kind == "owner_taken")).one()
        assert (taken.actor, taken.at) == ("wang.zr", later)
    with pytest.raises(Forbidden), db.write() as s:
        rectification.act(s, rules, rect_id, "answer", "li.bdc", later, text="x")
