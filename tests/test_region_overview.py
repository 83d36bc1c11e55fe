"""The regional overview over three real halls (SQLite files or PostgreSQL databases): each
hall's figures for a known state, each node's totals, a hall that does not answer, and a
viewer's part of the hierarchy."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from hall_ops import queue
from hall_ops.cases.catalogue import load_catalogue
from hall_ops.cases.supervision import supervise
from hall_ops.cases.time_limits import deadline_watch
from hall_ops.db import Database
from hall_ops.evaluation import ratings
from hall_ops.evaluation.ratings import EvaluationRules
from hall_ops.region.access import subtree
from hall_ops.region.directory import HallRef
from hall_ops.region.overview import Figures, FiguresCache, regional_overview
from sensors.models import Camera, OccupancySample
from sensors.poller import estimate_people
from tests.conftest import ROOT
from tests.support.region import StaticDirectory, demo_hall_as, hall_database
from tests.test_intake import NOW, intake, serve

# Thursday 10 December 2026, 10:00 in Shanghai: fifteen days after the case of NOW.
DAY = dt.datetime(2026, 12, 10, 2, 0)
NODES = [
    HallRef("fj", "福建省", "Fujian", "province", None, floor=False),
    HallRef("fz", "福州市民服务中心", "Fuzhou Citizen Centre", "city", "fj"),
    HallRef("gl", "鼓楼区便民服务中心", "Gulou District Centre", "district", "fz"),
    HallRef("tj", "台江区便民服务中心", "Taijiang District Centre", "district", "fz"),
]
HALLS = [n for n in NODES if n.floor]


def minutes(m: float) -> dt.datetime:
    return DAY + dt.timedelta(minutes=m)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def region(request: pytest.FixtureRequest, tmp_path) -> Iterator[StaticDirectory]:
    """fz (a city centre) with gl and tj below it, under the province fj (no floor)."""
    created: list[str] = []
    urls: dict[str, str] = {}
    admin = None
    for hall in HALLS:
        if request.param == "sqlite":
            urls[hall.code] = f"sqlite:///{tmp_path / hall.code}.db"
        else:
            server = request.getfixturevalue("pg_server")
            admin = admin or create_engine(server, isolation_level="AUTOCOMMIT")
            name = f"hallops_{uuid.uuid4().hex[:12]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            created.append(name)
            urls[hall.code] = server.rsplit("/", 1)[0] + f"/{name}"
    configs = {h.code: demo_hall_as(h.code, h.name_zh, h.name_en) for h in HALLS}
    directory = StaticDirectory(
        NODES, {code: hall_database(url, configs[code]) for code, url in urls.items()}, configs)
    yield directory
    directory.dispose()
    if admin is not None:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def served_and_rated(db: Database, config, level: int, tags: tuple[str, ...], at: dt.datetime):
    with db.write() as s:
        queue.open_window(s, 5, "c05", at)
        token = queue.take_ticket(s, config, "enterprise", at, ignore_hours=True).status_token
        queue.call_next(s, config, 5, "c05", at)
        queue.start_service(s, 5, "c05", at)
        queue.finish(s, 5, "c05", at)
        queue.close_window(s, 5, "c05", at)
    with db.write() as s:
        ratings.rate_visit(s, EvaluationRules.from_config(config), token, level, at, tags=tags)


def flat_case_finished(db: Database, config, at: dt.datetime) -> None:
    """A second-hand flat accepted at window 8 (three items: 5, 1 and 0 working days)."""
    intake(db, serve(db, config, 8, "c08", "real_estate", at), now=at)
    with db.write() as s:
        queue.finish(s, 8, "c08", at)
        queue.close_window(s, 8, "c08", at)


def busy_day(region: StaticDirectory) -> None:
    """fz: a case accepted fifteen days ago (three red cards) and one today (its 0-day item
    yellow); window 4 open with three waiting (the oldest taken 20 minutes ago); two visits
    rated today, one good; a camera counting 40 people at the front. gl: two waiting for
    real estate with no window open (the first for 40 minutes). tj: nothing."""
    fz, config = region.database("fz"), region.config("fz")
    with fz.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
    flat_case_finished(fz, config, NOW)
    flat_case_finished(fz, config, minutes(-60))
    with fz.write(origin="deadline job") as s:
        supervise(s, config.intake_rules, DAY)
    with fz.write() as s:
        queue.open_window(s, 4, "c04", minutes(-30))
        for m in (-25, -20, -10, -5):
            queue.take_ticket(s, config, "enterprise", minutes(m), ignore_hours=True)
        queue.call_next(s, config, 4, "c04", minutes(-1))
    served_and_rated(fz, config, 5, (), minutes(-50))
    served_and_rated(fz, config, 2, ("long_wait",), minutes(-45))
    with fz.write() as s:
        s.add(Camera(name="cam-front-1", zone_code="front_intake", host="127.0.0.1", port=18081,
                     role="occupancy", status="online", last_seen_at=minutes(-1)))
        s.flush()
        s.add(OccupancySample(zone_code="front_intake", camera_name="cam-front-1",
                              at=minutes(-1), count=40, source="camera"))
    gl, config = region.database("gl"), region.config("gl")
    with gl.write() as s:
        for m in (-40, -15):
            queue.take_ticket(s, config, "real_estate", minutes(m), ignore_hours=True)


def figures_of(overview, code: str, which: str = "own") -> dict:
    node = next(n for n in overview["nodes"] if n["code"] == code)
    return node[which]


def test_each_hall_and_each_node_for_a_known_day(region):
    busy_day(region)
    with region.database("fz").read() as s:  # the cards agree with the live clock
        live = deadline_watch(s, region.config("fz").intake_rules, DAY)
    assert (sum(w["overdue"] for w in live), sum(not w["overdue"] for w in live)) == (3, 1)

    overview = regional_overview(region, DAY).as_dict()
    json.dumps(overview)  # the API answers it as it is
    assert overview["at"] == "2026-12-10T02:00:00+00:00"
    assert [(n["code"], n["depth"], n["parent"], n["floor"]) for n in overview["nodes"]] == [
        ("fj", 0, None, False), ("fz", 1, "fj", True), ("gl", 2, "fz", True),
        ("tj", 2, "fz", True)]
    fz = dataclasses.asdict(Figures(
        halls=1, waiting=3, longest_wait_minutes=20.0, open_windows=1, windows=24, people=40,
        people_estimated=False, overdue_items=3, warning_items=1, ratings=2, good_ratings=1,
        good_rate=0.5, alerts=1, critical_alerts=1))
    assert figures_of(overview, "fz") == fz
    gl = dataclasses.asdict(Figures(
        halls=1, waiting=2, longest_wait_minutes=40.0, windows=24, people=estimate_people(2),
        people_estimated=True, alerts=1, critical_alerts=1))  # unstaffed real estate
    assert figures_of(overview, "gl") == gl
    tj = dataclasses.asdict(Figures(halls=1, windows=24))
    assert figures_of(overview, "tj") == tj
    assert figures_of(overview, "gl", "total") == gl
    total = dataclasses.asdict(Figures(
        halls=3, waiting=5, longest_wait_minutes=40.0, open_windows=1, windows=72,
        people=40 + estimate_people(2), people_estimated=True, overdue_items=3,
        warning_items=1, ratings=2, good_ratings=1, good_rate=0.5, alerts=2,
        critical_alerts=2))
    assert figures_of(overview, "fz", "total") == total
    assert figures_of(overview, "fj", "total") == total
    assert figures_of(overview, "fj") is None


def test_a_viewer_sees_the_part_of_the_hierarchy_granted(region):
    busy_day(region)
    district = regional_overview(region, DAY, within={"gl"}).as_dict()
    assert [(n["code"], n["depth"], n["parent"]) for n in district["nodes"]] == [
        ("gl", 0, None)]
    assert district["nodes"][0]["total"]["waiting"] == 2
    city = regional_overview(region, DAY, within={"fz", "unknown"}).as_dict()
    assert [(n["code"], n["depth"]) for n in city["nodes"]] == [
        ("fz", 0), ("gl", 1), ("tj", 1)]
    assert regional_overview(region, DAY, within=set()).nodes == []


def test_a_hall_that_does_not_answer_is_named_and_the_others_still_show(tmp_path, caplog):
    configs = {h.code: demo_hall_as(h.code, h.name_zh, h.name_en) for h in HALLS}
    databases = {h.code: hall_database(f"sqlite:///{tmp_path / h.code}.db", configs[h.code])
                 for h in HALLS if h.code != "tj"}
    broken = tmp_path / "tj.db"
    broken.write_bytes(b"not a database, whatever the name says" * 100)
    databases["tj"] = Database(f"sqlite:///{broken}")
    directory = StaticDirectory(NODES, databases, configs)
    try:
        overview = regional_overview(directory, DAY).as_dict()
    finally:
        directory.dispose()
    tj = next(n for n in overview["nodes"] if n["code"] == "tj")
    assert (tj["available"], tj["own"], tj["total"]["unavailable"]) == (False, None, 1)
    fz = next(n for n in overview["nodes"] if n["code"] == "fz")
    assert (fz["available"], fz["total"]["halls"], fz["total"]["unavailable"]) == (True, 2, 1)
    assert fz["total"]["windows"] == 48
    assert "hall tj did not answer" in caplog.text


def test_a_hall_is_read_once_per_interval_however_many_ask(region):
    cache = FiguresCache(dt.timedelta(seconds=5))
    first = regional_overview(region, DAY, cache=cache).as_dict()
    with region.database("tj").write() as s:
        queue.take_ticket(s, region.config("tj"), "enterprise", DAY, ignore_hours=True)
    soon = regional_overview(region, DAY + dt.timedelta(seconds=4), cache=cache).as_dict()
    assert figures_of(soon, "tj")["waiting"] == figures_of(first, "tj")["waiting"] == 0
    later = regional_overview(region, DAY + dt.timedelta(seconds=5), cache=cache).as_dict()
    assert figures_of(later, "tj")["waiting"] == 1
    assert figures_of(later, "fj", "total")["waiting"] == 1


def test_a_node_covers_itself_and_everything_below():
    assert subtree(NODES, {"fz", "gone"}) == {"fz", "gl", "tj"}
    assert subtree(NODES, {"gl"}) == {"gl"}
    assert subtree(NODES, ()) == set()


def test_requests_arriving_together_read_a_hall_once():
    cache = FiguresCache(dt.timedelta(seconds=5))
    reads: list[str] = []
    started = threading.Event()

    def slow_read() -> Figures:
        reads.append("read")
        started.set()
        time.sleep(0.3)
        return Figures(halls=1, waiting=len(reads))

    first = threading.Thread(target=lambda: cache.figures("fz", DAY, slow_read))
    first.start()
    started.wait()
    second = cache.figures("fz", DAY + dt.timedelta(seconds=1), slow_read)
    first.join()
    assert (reads, second.waiting) == (["read"], 1)
