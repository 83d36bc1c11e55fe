"""The hall floor kept in the database: the admin page's changes to zones, services and
windows (``hall_ops.floor.admin``), their trail, and config.toml only seeding them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from hall_ops import queue
from hall_ops.audit.verify import verify_database
from hall_ops.cases.catalogue import load_catalogue
from hall_ops.clock import hall_day
from hall_ops.config import ConfigError, ServiceConfig, WindowConfig
from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.events import QueueChanged, WindowChanged
from hall_ops.floor import admin as floor
from hall_ops.floor.models import FloorChange
from hall_ops.floor.plan import floor_plan
from hall_ops.floor.workload import Proposal, apply_proposal, measure_capacity
from hall_ops.hall import load_hall
from hall_ops.queue.models import Service, Window
from tests.conftest import OPEN_NOW, ROOT
from zones.skills import window_skills

DAY = hall_day(OPEN_NOW, ZoneInfo("Asia/Shanghai"))


def _service(session, code="passport", letter="P", zone="public_affairs", **kwargs):
    return floor.add_service(session, "admin", code, letter=letter, name_zh="出入境",
                             name_en="Exit and entry", zone=zone, board=kwargs.get("board"),
                             mean_service_minutes=kwargs.get("minutes", 7.0), now=OPEN_NOW,
                             day=DAY)


def test_config_seeds_and_the_plan_is_read_from_the_rows(any_db, hall_config):
    with any_db.read() as s:
        plan = floor_plan(s)
    assert [z.code for z in plan.zones] == [z.code for z in hall_config.zones]
    assert plan.services == hall_config.services
    assert [(w.number, w.zone, w.kind, set(w.services)) for w in plan.windows] == \
        [(w.number, w.zone, w.kind, set(w.services)) for w in hall_config.windows]
    assert window_skills(plan.windows) == window_skills(hall_config.windows)


def test_zones_services_and_windows_change_and_each_change_is_recorded(any_db, hall_config):
    with any_db.write() as s:
        floor.add_zone(s, "admin", "annex", "附楼", "Annex", OPEN_NOW)
        floor.edit_zone(s, "admin", "business", OPEN_NOW, name_zh="商务服务区")
        _service(s, zone="annex")
        floor.edit_service(s, "admin", "notary", {"name_zh": "公证", "letter": "N",
                                                  "mean_service_minutes": 20}, OPEN_NOW, DAY)
        floor.add_window(s, "admin", 40, "annex", "general", ["passport", "notary"], OPEN_NOW)
        floor.edit_window(s, "admin", 24, OPEN_NOW, services=["social_security", "notary"])
        recorded = list(s.info["events"])
    assert QueueChanged() in recorded and WindowChanged(40) in recorded
    with any_db.read() as s:
        plan = floor_plan(s)
        assert plan.zones[-1].code == "annex"
        assert next(z for z in plan.zones if z.code == "business").name_zh == "商务服务区"
        assert ServiceConfig("passport", "P", "出入境", "Exit and entry", "annex", None, 7.0) \
            in plan.services
        notary = next(x for x in plan.services if x.code == "notary")
        assert (notary.letter, notary.name_zh, notary.mean_service_minutes) == ("N", "公证", 20)
        assert WindowConfig(40, "annex", "general", ("notary", "passport")) in plan.windows
        assert s.get(Window, 40).service_codes == ["notary", "passport"]  # closed: takes them
        assert s.get(Window, 24).default_codes == ["notary", "social_security"]
        rows = s.scalars(select(FloorChange).order_by(FloorChange.id)).all()
        assert [r.kind for r in rows] == ["add_zone", "edit_zone", "add_service", "edit_service",
                                          "add_window", "edit_window"]
        assert {r.actor for r in rows} == {"admin"}
        edited = rows[3]
        assert edited.subject == "service:notary"
        assert edited.before == {"letter": "H", "name_zh": "公证服务", "mean_service_minutes": 18}
        assert edited.after == {"letter": "N", "name_zh": "公证", "mean_service_minutes": 20}
        snapshot = queue.queue_snapshot(s, hall_config, OPEN_NOW)
        assert any(w["number"] == 40 for w in snapshot["windows"])
        assert next(x for x in snapshot["services"] if x["code"] == "notary")["name_zh"] == "公证"
    report = verify_database(any_db)
    assert report.ok, report.text()
    with pytest.raises(Exception, match="append-only"), any_db.engine.begin() as conn:
        conn.execute(text("UPDATE floor_changes SET actor = 'mallory'"))


def test_a_change_that_changes_nothing_is_not_recorded(db):
    with db.write() as s:
        floor.edit_zone(s, "admin", "business", OPEN_NOW, name_zh="商务区")
        floor.edit_service(s, "admin", "notary", {"letter": "H"}, OPEN_NOW, DAY)
        floor.edit_window(s, "admin", 24, OPEN_NOW, zone="business",
                          services=["delivery", "business_services"])
        assert not s.info.get("events")
    with db.read() as s:
        assert floor.changes(s) == []


@pytest.mark.parametrize(("step", "error", "code"), [
    (lambda s: floor.add_zone(s, "admin", "Annex", None, None, OPEN_NOW), InvalidInput,
     "invalid_code"),
    (lambda s: floor.add_zone(s, "admin", "business", None, None, OPEN_NOW), Conflict,
     "zone_exists"),
    (lambda s: floor.edit_zone(s, "admin", "nowhere", OPEN_NOW, name_zh="x"), NotFound,
     "unknown_zone"),
    (lambda s: floor.edit_zone(s, "admin", "business", OPEN_NOW, name_zh=" "), InvalidInput,
     "invalid_label"),
    (lambda s: _service(s, letter="p"), InvalidInput, "invalid_letter"),
    (lambda s: _service(s, letter="A"), Conflict, "letter_taken"),
    (lambda s: _service(s, code="notary"), Conflict, "service_exists"),
    (lambda s: _service(s, zone="nowhere"), InvalidInput, "unknown_zone"),
    (lambda s: _service(s, board="bakery"), InvalidInput, "invalid_board"),
    (lambda s: _service(s, minutes=0), InvalidInput, "invalid_minutes"),
    (lambda s: floor.edit_service(s, "admin", "nothing", {"name_zh": "x"}, OPEN_NOW, DAY),
     NotFound, "unknown_service"),
    (lambda s: floor.add_window(s, "admin", 4, "front_intake", "intake", ["enterprise"],
                                OPEN_NOW), Conflict, "window_exists"),
    (lambda s: floor.add_window(s, "admin", 41, "back_approval", "intake", ["enterprise"],
                                OPEN_NOW), InvalidInput, "kind_not_in_zone"),
    (lambda s: floor.add_window(s, "admin", 41, "front_intake", "intake", [], OPEN_NOW),
     InvalidInput, "no_services"),
    (lambda s: floor.add_window(s, "admin", 41, "front_intake", "intake", ["bakery"],
                                OPEN_NOW), InvalidInput, "unknown_service"),
    (lambda s: floor.edit_window(s, "admin", 4, OPEN_NOW, kind="self_service"), InvalidInput,
     "kind_not_in_zone"),
    (lambda s: floor.retire_window(s, "admin", 999, OPEN_NOW), NotFound, "unknown_window"),
    (lambda s: floor.reinstate_window(s, "admin", 4, OPEN_NOW), Conflict,
     "window_in_service"),
])
def test_refusals_name_what_is_wrong(db, step, error, code):
    with pytest.raises(error) as refused, db.write() as s:
        step(s)
    assert refused.value.code == code
    with db.read() as s:
        assert floor.changes(s) == []


def test_a_letter_that_numbered_todays_tickets_waits_for_tomorrow(db, hall_config):
    with db.write() as s:
        queue.take_ticket(s, hall_config, "notary", OPEN_NOW)  # H001
        floor.edit_service(s, "admin", "notary", {"letter": "N"}, OPEN_NOW, DAY)
    with pytest.raises(Conflict) as refused, db.write() as s:
        _service(s, letter="H")
    assert refused.value.code == "letter_used_today"
    tomorrow = DAY + dt.timedelta(days=1)
    with db.write() as s:
        floor.add_service(s, "admin", "passport", letter="H", name_zh="出入境", name_en="Exit",
                          zone="public_affairs", board=None, mean_service_minutes=5,
                          now=OPEN_NOW, day=tomorrow)


def test_a_board_agrees_with_the_catalogue_items_served(db):
    with db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
    with pytest.raises(Conflict) as refused, db.write() as s:
        floor.edit_service(s, "admin", "enterprise", {"board": "real_estate"}, OPEN_NOW, DAY)
    assert refused.value.code == "board_mismatch"
    with db.write() as s:
        floor.edit_service(s, "admin", "enterprise", {"board": None}, OPEN_NOW, DAY)
        assert s.get(Service, "enterprise").board is None


def test_a_window_retires_only_when_nobody_works_there(any_db, hall_config):
    with any_db.write() as s:
        queue.take_ticket(s, hall_config, "enterprise", OPEN_NOW)
        queue.open_window(s, 4, "c04", OPEN_NOW)
    with pytest.raises(Conflict) as refused, any_db.write() as s:
        floor.retire_window(s, "admin", 4, OPEN_NOW)
    assert refused.value.code == "window_open"
    with any_db.write() as s:
        queue.call_next(s, hall_config, 4, "c04", OPEN_NOW)
    with pytest.raises(Conflict) as refused, any_db.write() as s:
        floor.retire_window(s, "admin", 4, OPEN_NOW)
    assert refused.value.code == "window_busy"

    with any_db.write() as s:
        floor.retire_window(s, "admin", 24, OPEN_NOW)
    with pytest.raises(Conflict) as refused, any_db.write() as s:
        queue.open_window(s, 24, "c05", OPEN_NOW)
    assert refused.value.code == "window_retired"
    with pytest.raises(Conflict) as refused, any_db.write() as s:
        floor.edit_window(s, "admin", 24, OPEN_NOW, kind="delivery")
    assert refused.value.code == "window_retired"
    with any_db.read() as s:
        assert 24 not in {w.number for w in floor_plan(s).windows}
        assert 24 not in {w["number"] for w in queue.hall_layout(s)["windows"]}
        assert 24 not in {w["number"]
                          for w in queue.queue_snapshot(s, hall_config, OPEN_NOW)["windows"]}
    with any_db.write() as s:
        floor.reinstate_window(s, "admin", 24, OPEN_NOW)
        queue.open_window(s, 24, "c05", OPEN_NOW)
    with any_db.read() as s:
        kinds = [c["kind"] for c in floor.changes(s, subject="window:24")]
    assert kinds == ["reinstate_window", "retire_window"]


def test_an_open_window_keeps_its_current_services_until_it_closes(db):
    with db.write() as s:
        queue.open_window(s, 4, "c04", OPEN_NOW)
        floor.edit_window(s, "admin", 4, OPEN_NOW, services=["enterprise", "investment"])
    with db.read() as s:
        window = s.get(Window, 4)
        assert window.service_codes == ["enterprise"]
        assert window.default_codes == ["enterprise", "investment"]


def test_a_start_does_not_undo_the_admin_page(db, hall_config):
    """config.toml seeds: a second load_hall (every start does one) leaves the rows alone,
    and only adds what the database lacks."""
    with db.write() as s:
        floor.edit_zone(s, "admin", "business", OPEN_NOW, name_en="Business")
        floor.edit_service(s, "admin", "notary", {"zone": "business", "name_en": "Notaries"},
                           OPEN_NOW, DAY)
        floor.edit_window(s, "admin", 4, OPEN_NOW, zone="public_affairs", kind="general")
        floor.retire_window(s, "admin", 5, OPEN_NOW)
    grown = dataclasses.replace(
        hall_config,
        services=(*hall_config.services,
                  ServiceConfig("tax", "T", "税务", "Tax", "front_intake", None, 9.0)),
        windows=(*hall_config.windows, WindowConfig(30, "front_intake", "general", ("tax",))),
    )
    with db.write() as s:
        load_hall(s, grown)
    with db.read() as s:
        plan = floor_plan(s)
        assert next(z for z in plan.zones if z.code == "business").name_en == "Business"
        notary = next(x for x in plan.services if x.code == "notary")
        assert (notary.zone, notary.name_en) == ("business", "Notaries")
        four = next(w for w in plan.windows if w.number == 4)
        assert (four.zone, four.kind) == ("public_affairs", "general")
        assert 5 not in {w.number for w in plan.windows}
        assert plan.services[-1].code == "tax"
        assert WindowConfig(30, "front_intake", "general", ("tax",)) in plan.windows


def test_a_seeded_letter_taken_in_the_database_stops_the_start(db, hall_config):
    with db.write() as s:
        _service(s, letter="T")
    grown = dataclasses.replace(hall_config, services=(
        *hall_config.services, ServiceConfig("tax", "T", "税务", "Tax", "front_intake", None, 9)))
    with pytest.raises(ConfigError, match="letter T"), db.write() as s:
        load_hall(s, grown)


def test_the_planner_leaves_a_retired_window_out(db):
    with db.write() as s:
        floor.retire_window(s, "admin", 13, OPEN_NOW)
    with db.read() as s:
        capacity = measure_capacity(s, window_skills(floor_plan(s).windows))
    assert 13 not in {w.number for w in capacity.windows}
    stale = Proposal("open", 13, ("non_resident", "real_estate"), ("enterprise",), None, {}, {},
                     0.0, "", "")
    with pytest.raises(Conflict) as refused, db.write() as s:
        apply_proposal(s, stale, "manager", OPEN_NOW)
    assert refused.value.code == "window_retired"


def test_two_admins_adding_one_window_at_once_get_a_conflict(any_db):
    """The second writer waits for the first (SQLite's BEGIN IMMEDIATE, PostgreSQL's unique
    index) and is refused as ``window_exists``, never a server error."""
    first_in = threading.Event()
    outcomes: list[str] = []

    def add(hold: float) -> None:
        try:
            with any_db.write() as s:
                floor.add_window(s, "admin", 50, "business", "general", ["delivery"], OPEN_NOW)
                first_in.set()
                time.sleep(hold)
            outcomes.append("added")
        except Conflict as exc:
            outcomes.append(exc.code)

    first = threading.Thread(target=add, args=(0.5,))
    first.start()
    assert first_in.wait(10)
    second = threading.Thread(target=add, args=(0,))
    second.start()
    first.join(10)
    second.join(10)
    assert sorted(outcomes) == ["added", "window_exists"]


def test_saving_a_window_with_its_defaults_leaves_a_managers_plan_alone(db):
    """A manager may prepare a closed window's services (an ``open`` proposal): the admin
    saving the window's row with unchanged default services does not undo that."""
    with db.write() as s:
        s.get(Window, 16).assignments[0].service_code = "utilities"
    with db.write() as s:
        floor.edit_window(s, "admin", 16, OPEN_NOW, kind="delivery",
                          services=["social_security"])
    with db.read() as s:
        window = s.get(Window, 16)
        assert (window.kind, window.service_codes, window.default_codes) == (
            "delivery", ["utilities"], ["social_security"])
