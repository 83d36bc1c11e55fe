"""Cases across halls: a result collected at another hall of the deployment, or sent by post.

Two real halls, each with its own database (SQLite files, or two PostgreSQL databases), met
through a small ``HallDirectory`` over them, as a deployment's would be: the result lands at
the collecting hall once however often it is sent, the citizen is told where to collect it
only once it is there, the collecting hall's window hands it over and the origin hall's case
records that. By post: the tracking number recorded, the notice marked sent only when the
gateway accepted it. Then the same through the API of two hall apps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from hall_ops import queue
from hall_ops.cases import crosshall, delivery
from hall_ops.cases.catalogue import load_catalogue
from hall_ops.cases.destination import (
    Destination,
    change_destination,
    check_destination,
    check_tracking_number,
    mask_address,
)
from hall_ops.cases.intake import create_intake, get_case
from hall_ops.cases.models import (
    Case,
    CitizenNotice,
    Delivery,
    DeliveryChoice,
    HallTransfer,
    IncomingResult,
)
from hall_ops.cases.notices import OutgoingNotice, SmsGateway, notify_ready, settings_from_config
from hall_ops.config import HallConfig
from hall_ops.db import Database
from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.region.directory import HallRef
from tests.conftest import make_hall_db
from tests.support.web import hall_app, window_client
from tests.test_delivery import Recording, decide
from tests.test_intake import FLAT_E, FLAT_ITEMS, FLAT_PAPER, NOW, PERSON, ROOT, RULES, serve
from tests.test_operations import sample, scrape

ORIGIN, NORTH = "main", "north"
REFS = {
    ORIGIN: HallRef(ORIGIN, "市民中心行政服务大厅", "Citizen Centre", "city", None),
    NORTH: HallRef(NORTH, "北区便民服务中心", "North District Centre", "district", ORIGIN),
}
ADDRESS = "浙江省杭州市西湖区文三路90号东部软件园3号楼"


class Deployment:
    """A ``HallDirectory`` over real hall databases; ``down`` names halls that cannot be
    reached (their database refuses to be handed out, as a dropped connection would)."""

    def __init__(self, halls: dict[str, tuple[Database, HallConfig]]) -> None:
        self._halls = halls
        self.down: set[str] = set()

    def halls(self) -> list[HallRef]:
        return [REFS[code] for code in self._halls]

    def nodes(self) -> list[HallRef]:
        return self.halls()

    def hall(self, code: str) -> HallRef | None:
        return REFS.get(code) if code in self._halls else None

    def database(self, code: str) -> Database:
        if code in self.down:
            raise ConnectionError(f"hall {code} unreachable")
        return self._halls[code][0]

    def config(self, code: str) -> HallConfig:
        return self._halls[code][1]


def _pg_database(pg_server: str) -> tuple[str, str]:
    name = f"hallops_{uuid.uuid4().hex[:12]}"
    with create_engine(pg_server, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return name, pg_server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_halls(request: pytest.FixtureRequest, tmp_path: Path,
              hall_config: HallConfig) -> Iterator[tuple[Database, Database, Deployment]]:
    """The origin hall and the north hall, each its own database with the catalogue."""
    made: list[str] = []
    urls = []
    for code in (ORIGIN, NORTH):
        if request.param == "sqlite":
            urls.append(f"sqlite:///{tmp_path / code}.db")
        else:
            name, url = _pg_database(request.getfixturevalue("pg_server"))
            made.append(name)
            urls.append(url)
    origin, north = (make_hall_db(url, hall_config) for url in urls)
    for db in (origin, north):
        with db.write() as s:
            load_catalogue(s, ROOT / "data" / "catalogue")
    yield origin, north, Deployment({ORIGIN: (origin, hall_config), NORTH: (north, hall_config)})
    origin.dispose()
    north.dispose()
    if made:
        admin = create_engine(request.getfixturevalue("pg_server"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def accept(db: Database, hall_config: HallConfig, destination: Destination) -> str:
    ticket = serve(db, hall_config, 8, "c08", "real_estate")
    with db.write() as s:
        return create_intake(
            s, RULES, ticket_id=ticket, window_number=8, clerk_id="c08", applicant=PERSON,
            item_codes=FLAT_ITEMS, received=FLAT_PAPER, e_licences=FLAT_E,
            destination=destination, now=NOW,
        ).number


def statuses(db: Database, number: str) -> set[str]:
    with db.read() as s:
        return {i.status for i in get_case(s, number).items}


# ---------------------------------------------------------------- the choice


def test_the_choice_is_checked_and_a_single_hall_offers_no_other():
    with pytest.raises(InvalidInput) as err:
        check_destination(Destination("other_hall", NORTH), None)
    assert err.value.code == "no_other_halls"
    with pytest.raises(InvalidInput) as err:
        check_destination(Destination("other_hall", "south"), [NORTH])
    assert err.value.code == "unknown_hall"
    assert check_destination(Destination("other_hall", NORTH), [NORTH]).hall == NORTH
    with pytest.raises(InvalidInput) as err:
        check_destination(Destination("post", address=ADDRESS, postcode="3100"), None)
    assert err.value.code == "invalid_postcode"
    with pytest.raises(InvalidInput) as err:
        check_destination(Destination("post", address="杭州", postcode="310012"), None)
    assert err.value.code == "invalid_address"
    post = check_destination(Destination("post", address=f"  {ADDRESS} ", postcode="310012"),
                             None)
    assert post.address == ADDRESS and post.hall is None
    assert check_destination(Destination("hall", NORTH, ADDRESS), None) == Destination()
    assert mask_address(ADDRESS) == "浙江省杭州市****"


@pytest.mark.parametrize("number, normalised", [
    ("EA123456785CN", "EA123456785CN"), ("ea 1234 5678 5cn", "EA123456785CN"),
    ("SF1234567890123", "SF1234567890123"), ("9876543210987", "9876543210987"),
])
def test_tracking_numbers(number, normalised):
    assert check_tracking_number(number) == normalised


@pytest.mark.parametrize("number", ["EA123456784CN", "12345", "寄出了", "SF12345678901234567890X"])
def test_wrong_tracking_numbers_are_refused(number):
    with pytest.raises(InvalidInput) as err:
        check_tracking_number(number)
    assert err.value.code == "invalid_tracking_number"


# ---------------------------------------------------------------- by post


def test_by_post_the_tracking_number_is_recorded_and_the_notice_sent_once_confirmed(
        two_halls, hall_config):
    origin, _, _ = two_halls
    number = accept(origin, hall_config,
                    Destination("post", address=ADDRESS, postcode="310012"))
    with origin.read() as s:  # the address is encrypted at rest, like the ID number
        stored = s.execute(text("SELECT delivery_address FROM cases")).scalar_one()
        assert "文三路" not in stored and stored.startswith("v1:")
        assert get_case(s, number).delivery_address == {"address": ADDRESS, "postcode": "310012"}
    decide(origin, number)
    gateway = Recording(fail=1)
    assert notify_ready(origin, {"sms": gateway}, NOW).sent == 0
    with origin.read() as s:  # ready, but nothing is said before it is mailed
        assert s.scalar(select(func.count()).select_from(CitizenNotice)) == 0
    with pytest.raises(Conflict) as err, origin.write() as s:
        delivery.check_in(s, hall_config, number, "8000", NOW, ignore_hours=True)
    assert err.value.code == "delivered_by_post"

    with pytest.raises(InvalidInput), origin.write() as s:
        delivery.record_mailing(s, number, "EA123456784CN", "c14", NOW)
    with pytest.raises(Conflict) as err, origin.write() as s:  # gaps still outstanding
        delivery.record_mailing(s, number, "EA123456785CN", "c14", NOW)
    assert err.value.code == "gaps_outstanding"
    with origin.write() as s:
        delivery.record_mailing(s, number, "ea123456785cn", "c14", NOW, confirm_gaps=True,
                                reason="科长同意先行寄出")
    assert statuses(origin, number) == {"delivered"}
    with origin.read() as s:
        row = s.scalars(select(Delivery)).one()
        assert (row.tracking_number, row.clerk_id, row.handed_over_at) == (
            "EA123456785CN", "c14", None)
        last = get_case(s, number).items[0].events[-1]
        assert last.actor == "c14" and "EA123456785CN" in (last.reason or "")
    with pytest.raises(Conflict) as err, origin.write() as s:
        delivery.record_mailing(s, number, "EA123456785CN", "c14", NOW)
    assert err.value.code == "already_delivered"

    # The gateway fails first: the notice is not marked sent; the retry goes through.
    assert notify_ready(origin, {"sms": gateway}, NOW).sent == 0
    with origin.read() as s:
        notice = s.scalars(select(CitizenNotice)).one()
        assert notice.status == "pending" and notice.sent_at is None
        assert s.scalars(select(Delivery)).one().notified_at is None
    later = NOW + dt.timedelta(minutes=10)
    assert notify_ready(origin, {"sms": gateway}, later).sent == 1
    (sent,) = gateway.sent
    assert sent.tracking_number == "EA123456785CN" and "EA123456785CN" in sent.text_zh
    with origin.read() as s:
        assert s.scalars(select(Delivery)).one().notified_at is not None
    with pytest.raises(Conflict), origin.write() as s:  # it left: no change of mind now
        change_destination(s, number, Destination(), "c04", later)


# ---------------------------------------------------------------- at another hall


def test_a_result_collected_at_another_hall(two_halls, hall_config, monkeypatch):
    origin, north, deployment = two_halls
    number = accept(origin, hall_config, Destination("other_hall", NORTH))
    decide(origin, number)
    gateway = Recording()
    assert notify_ready(origin, {"sms": gateway}, NOW).sent == 0  # not there yet: not told
    with origin.read() as s:
        assert s.scalars(select(HallTransfer)).one().status == "pending"

    # The north hall commits the result, then the origin fails before recording that.
    real_settle = crosshall._settle_transfer
    def broken(*args, **kwargs):
        raise ConnectionError("origin database went away")
    monkeypatch.setattr(crosshall, "_settle_transfer", broken)
    with pytest.raises(ConnectionError):
        crosshall.send_transfers(origin, deployment, ORIGIN, NOW)
    monkeypatch.setattr(crosshall, "_settle_transfer", real_settle)
    with north.read() as s:
        assert s.scalar(select(func.count()).select_from(IncomingResult)) == 1
    with origin.read() as s:
        assert s.scalars(select(HallTransfer)).one().status == "pending"
    assert notify_ready(origin, {"sms": gateway}, NOW).sent == 0
    # A change of mind now could leave the result at both halls: refused.
    with pytest.raises(Conflict) as err, origin.write() as s:
        change_destination(s, number, Destination(), "c04", NOW)
    assert err.value.code == "sent_to_other_hall"

    # The retry (after the lease) lands nothing twice, and only now is the citizen told.
    later = NOW + dt.timedelta(minutes=5)
    assert crosshall.send_transfers(origin, deployment, ORIGIN, later).landed == [number]
    assert crosshall.send_transfers(origin, deployment, ORIGIN, later).landed == []
    with north.read() as s:
        (incoming,) = s.scalars(select(IncomingResult)).all()
        assert (incoming.from_hall, incoming.case_number) == (ORIGIN, number)
        assert incoming.payload["applicant"]["phone"] == "13800138000"
        assert {g["name_zh"] for g in incoming.payload["gaps"]} == {
            "完税凭证", "婚姻状况证明", "家庭住房情况查询结果"}
    assert notify_ready(origin, {"sms": gateway}, later).sent == 1
    (notice,) = gateway.sent
    assert notice.collect_at == "北区便民服务中心" and "北区便民服务中心" in notice.text_zh

    # The citizen goes to the north hall: its kiosk knows the case, the origin's sends on.
    with pytest.raises(Conflict) as err, origin.write() as s:
        delivery.check_in(s, hall_config, number, "8000", later, ignore_hours=True)
    assert err.value.code == "collected_at_other_hall"
    with pytest.raises(NotFound) as missing, north.write() as s:
        delivery.check_in(s, hall_config, number, "1111", later, ignore_hours=True)
    assert missing.value.code == "unknown_case"
    with north.write() as s:
        ticket = delivery.check_in(s, hall_config, number, "8000", later, ignore_hours=True)
        assert delivery.check_in(s, hall_config, number, "8000", later,
                                 ignore_hours=True).id == ticket.id
        assert delivery.delivery_view(s, ticket.id)["result_ready"] is True
    with north.write() as s:
        queue.open_window(s, 14, "c14", later)
        queue.call_next(s, hall_config, 14, "c14", later)
        queue.start_service(s, 14, "c14", later)
    with pytest.raises(Conflict) as err, north.write() as s:
        delivery.hand_over_result(s, 14, "c14", later)
    assert err.value.code == "gaps_outstanding"
    with north.write() as s:
        handed, row = delivery.hand_over_result(s, 14, "c14", later, confirm_gaps=True,
                                                reason="窗口核实后出件")
        assert handed == number and row is not None

    # The origin hall is down when the north hall reports; the job reports it later.
    deployment.down.add(ORIGIN)
    assert crosshall.report_deliveries(north, deployment, NORTH, later).failed == [number]
    assert statuses(origin, number) == {"approved"}
    deployment.down.clear()
    much_later = later + dt.timedelta(hours=1)
    assert crosshall.exchange(north, deployment, NORTH, much_later).reported == [number]
    assert crosshall.exchange(north, deployment, NORTH, much_later).reported == []
    assert statuses(origin, number) == {"delivered"}
    with origin.read() as s:
        case = get_case(s, number)
        row = s.scalars(select(Delivery)).one()
        assert (row.delivered_hall, row.window_number, row.clerk_id) == (NORTH, 14, "c14")
        last = case.items[0].events[-1]
        assert last.actor == "c14@north" and "窗口核实后出件" in (last.reason or "")
        assert case.windows_visited == 2
    with north.read() as s:
        assert s.scalars(select(IncomingResult)).one().reported_at == much_later
    # Reported twice (a retry after a lost answer) changes nothing at the origin.
    with origin.write() as s:
        assert not crosshall.record_delivered_elsewhere(s, number, NORTH, 14, "c14", later, None)
    with pytest.raises(Conflict), north.write() as s:
        delivery.check_in(s, hall_config, number, "8000", much_later, ignore_hours=True)


def test_a_change_of_mind_before_the_result_left(two_halls, hall_config):
    origin, north, deployment = two_halls
    number = accept(origin, hall_config, Destination())
    decide(origin, number)
    notify_ready(origin, {}, NOW)
    with origin.write() as s:
        change_destination(s, number, Destination("other_hall", NORTH), "c04", NOW, "住在北区")
    with origin.write() as s:  # not yet sent: the citizen may still choose the post
        change_destination(s, number, Destination("post", address=ADDRESS, postcode="310012"),
                           "c05", NOW)
    assert crosshall.send_transfers(origin, deployment, ORIGIN, NOW).landed == []
    with north.read() as s:
        assert s.scalar(select(func.count()).select_from(IncomingResult)) == 0
    with origin.read() as s:
        case = s.scalars(select(Case)).one()
        assert case.delivery_mode == "post"
        assert s.scalars(select(HallTransfer)).one().status == "cancelled"
        history = s.scalars(select(DeliveryChoice).order_by(DeliveryChoice.id)).all()
        assert [(c.mode, c.hall_code, c.actor, c.reason) for c in history] == [
            ("hall", None, "c08", None), ("other_hall", NORTH, "c04", "住在北区"),
            ("post", None, "c05", None)]
        with pytest.raises(Exception, match="append-only"):  # the history is kept as it was
            s.execute(text("UPDATE case_delivery_choices SET actor = 'x'"))


# ---------------------------------------------------------------- through the API


@pytest.fixture
def apps(tmp_path: Path, hall_config: HallConfig, clock) -> Iterator[tuple[Flask, Flask]]:
    """Two hall apps with their own databases and a directory over them, on both contexts."""
    made = {}
    for code in (ORIGIN, NORTH):
        config = dataclasses.replace(hall_config, raw={
            **hall_config.raw, "hall": {**hall_config.raw["hall"], "code": code}})
        app = hall_app(config, clock=clock, database_url=f"sqlite:///{tmp_path / code}.db")
        with app.extensions["hall"].db.write() as s:
            load_catalogue(s, ROOT / "data" / "catalogue")
        made[code] = app
    deployment = Deployment({code: (app.extensions["hall"].db, app.extensions["hall"].config)
                             for code, app in made.items()})
    for app in made.values():
        app.extensions["hall"].directory = deployment
    yield made[ORIGIN], made[NORTH]
    for app in made.values():
        app.extensions["hall"].db.dispose()


@pytest.fixture
def single(tmp_path: Path, hall_config: HallConfig, clock) -> Iterator[Flask]:
    app = hall_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'one.db'}")
    with app.extensions["hall"].db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
    yield app
    app.extensions["hall"].db.dispose()


def serving(app: Flask, window: int = 4, clerk: str = "c04", service: str = "enterprise"):
    c = app.test_client()
    assert c.post("/api/v1/tickets", json={"service": service}).status_code == 201
    assert c.post(f"/api/v1/windows/{window}/login",
                  json={"clerk": clerk, "pin": "1234"}).status_code == 200
    assert c.post(f"/api/v1/windows/{window}/call-next").json["ticket"] is not None
    assert c.post(f"/api/v1/windows/{window}/start").status_code == 200
    return c


BODY = {"applicant": {"kind": "person", "name": "张三", "id_number": "330106198507201239",
                      "phone": "138-0013-8000"},
        "items": ["QY-01", "QY-08"],
        "received": ["公司登记（备案）申请书", "公司章程", "董事、监事和经理的任职文件",
                     "经办人身份证明及授权委托书", "新办纳税人涉税事项申请表", "住所使用证明",
                     "银行开户许可证或开户信息"],
        "e_licences": ["股东主体资格证明", "法定代表人身份证明", "营业执照"]}


@pytest.mark.parametrize("delivery, code", [
    ({"mode": "other_hall", "hall": "south"}, "unknown_hall"),
    ({"mode": "other_hall", "hall": "main"}, "unknown_hall"),  # this hall is not "another"
    ({"mode": "other_hall"}, "unknown_hall"),
    ({"mode": "post", "address": ADDRESS}, "invalid_postcode"),
    ({"mode": "post", "address": ADDRESS, "postcode": "31001"}, "invalid_postcode"),
    ({"mode": "post", "postcode": "310012"}, "invalid_address"),
    ({"mode": "drone"}, "invalid_delivery"),
    ({"mode": "hall", "actor": "someone"}, None),  # the actor is the session's, never the body's
])
def test_a_wrong_choice_is_refused_at_intake(apps, delivery, code):
    origin, _ = apps
    clerk = serving(origin)
    r = clerk.post("/api/v1/windows/4/intake", json={**BODY, "delivery": delivery})
    assert r.status_code == 422, r.json
    if code:
        assert r.json["error"] == code, r.json
    with origin.extensions["hall"].db.read() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_a_single_hall_offers_no_other_hall(single):
    clerk = serving(single)
    r = clerk.post("/api/v1/windows/4/intake",
                   json={**BODY, "delivery": {"mode": "other_hall", "hall": NORTH}})
    assert r.status_code == 422 and r.json["error"] == "no_other_halls"
    html = clerk.get("/intake?window=4").get_data(as_text=True)
    assert 'value="other_hall"' not in html and 'value="post"' in html
    assert 'id="change-hall"' not in clerk.get("/clerk").get_data(as_text=True)
    r = clerk.post("/api/v1/windows/4/intake", json=BODY)
    assert r.status_code == 201
    view = clerk.get(f"/api/v1/cases/{r.json['case_number']}").json
    assert view["delivery"]["mode"] == "hall" and view["delivery"]["state"] == "not_ready"


def test_by_post_and_at_another_hall_through_the_api(apps):
    origin, north = apps
    clerk = serving(origin)
    assert 'value="other_hall"' in clerk.get("/intake?window=4").get_data(as_text=True)
    console = clerk.get("/clerk").get_data(as_text=True)
    assert 'id="change-hall"' in console and "北区便民服务中心" in console
    assert 'value="main"' not in console  # this hall is not "another hall"
    r = clerk.post("/api/v1/windows/4/intake", json={
        **BODY, "delivery": {"mode": "other_hall", "hall": NORTH}})
    assert r.status_code == 201, r.json
    number = r.json["case_number"]
    assert clerk.post("/api/v1/windows/4/finish").status_code == 200
    slip = clerk.get(f"/cases/{number}/slip").get_data(as_text=True)
    assert "北区便民服务中心" in slip  # the citizen's paper says where to collect it
    view = clerk.get(f"/api/v1/cases/{number}").json["delivery"]
    assert view["hall"] == {"code": NORTH, "name_zh": "北区便民服务中心",
                            "name_en": "North District Centre"}
    assert [(c["mode"], c["actor"]) for c in view["choices"]] == [("other_hall", "c04")]

    # Another clerk, at the citizen's request, changes it to the post: masked to them.
    other = window_client(origin, 5, "c05")
    r = other.post(f"/api/v1/cases/{number}/delivery", json={
        "mode": "post", "address": ADDRESS, "postcode": "310012", "reason": "不便前往北区"})
    assert r.status_code == 200, r.json
    assert r.json["delivery"]["address"] == {"address": "浙江省杭州市****", "postcode": "310012"}
    assert [(c["mode"], c["actor"]) for c in r.json["delivery"]["choices"]] == [
        ("other_hall", "c04"), ("post", "c05")]
    r = other.post(f"/api/v1/cases/{number}/delivery", json={"mode": "post", "actor": "x"})
    assert r.status_code == 422

    # Mailing before the result is ready, then ready: validated, recorded by the session.
    r = other.post(f"/api/v1/cases/{number}/mailing", json={"tracking_number": "EA123456785CN"})
    assert r.status_code == 409 and r.json["error"] == "result_not_ready"
    hall = origin.extensions["hall"]
    decide(hall.db, number)
    notify_ready(hall.db, {}, hall.clock())
    whole = other.get(f"/api/v1/cases/{number}").json["delivery"]["address"]
    assert whole["address"] == ADDRESS  # the clerk who mails writes the envelope (logged)
    r = other.post(f"/api/v1/cases/{number}/mailing", json={"tracking_number": "EA123456784CN"})
    assert r.status_code == 422 and r.json["error"] == "invalid_tracking_number"
    r = other.post(f"/api/v1/cases/{number}/mailing",
                   json={"tracking_number": "EA123456785CN", "clerk": "c99"})
    assert r.status_code == 422
    r = other.post(f"/api/v1/cases/{number}/mailing", json={"tracking_number": "EA123456785CN"})
    assert r.status_code == 200, r.json
    assert (r.json["delivery"]["state"], r.json["delivery"]["tracking_number"]) == (
        "mailed", "EA123456785CN")
    assert r.json["delivery"]["address"]["address"] == "浙江省杭州市****"  # mailed: masked again
    assert {i["status"] for i in r.json["items"]} == {"delivered"}
    assert r.json["items"][0]["history"][-1]["actor"] == "c05"

    # At another hall: accepted here, collected in the north hall.
    clerk = serving(origin, 4, "c04")
    number = clerk.post("/api/v1/windows/4/intake", json={
        **BODY, "delivery": {"mode": "other_hall", "hall": NORTH}}).json["case_number"]
    decide(hall.db, number)
    notify_ready(hall.db, {}, hall.clock())
    assert sample(scrape(origin), "hall_cross_hall_backlog", direction="to_other_hall") == 1
    crosshall.exchange(hall.db, hall.directory, hall.code, hall.clock())
    assert sample(scrape(origin), "hall_cross_hall_backlog", direction="to_other_hall") == 0
    assert clerk.get(f"/api/v1/cases/{number}").json["delivery"]["state"] == "at_other_hall"
    citizen = north.test_client()
    r = citizen.post("/api/v1/deliveries/check-in",
                     json={"case_number": number, "phone_last4": "8000"})
    assert r.status_code == 201, r.json
    assert r.json["case"]["from_hall"] == ORIGIN and r.json["licences"] is None
    desk = window_client(north, 14, "c14")
    assert desk.post("/api/v1/windows/14/call-next").json["ticket"]["number"] == r.json["number"]
    assert desk.post("/api/v1/windows/14/start").status_code == 200
    r = desk.post("/api/v1/windows/14/hand-over", json={})
    assert r.status_code == 200, r.json
    assert r.json["case_number"] == number
    view = clerk.get(f"/api/v1/cases/{number}").json["delivery"]
    assert view["state"] == "handed_over" and view["handed_over_hall"]["code"] == NORTH
    assert view["handed_over_window"] == 14
    with north.extensions["hall"].db.read() as s:
        row = s.scalars(select(IncomingResult)).one()
        assert (row.clerk_id, row.window_number, row.reported_at is not None) == ("c14", 14, True)
    assert sample(scrape(north), "hall_cross_hall_backlog", direction="to_origin") == 0


def test_the_sms_names_the_collecting_hall_or_the_tracking_number_when_approved_for_it():
    settings = settings_from_config({"sms": {
        "endpoint": "http://127.0.0.1:9/", "access_key_id": "id", "access_key_secret": "s",
        "sign_name": "市民中心", "template_code": "SMS_1", "collect_template_code": "SMS_2",
        "post_template_code": "SMS_3"}})
    gateway = settings.channels["sms"]
    assert isinstance(gateway, SmsGateway)
    here = OutgoingNotice(1, "13800138000", "SQ20261125-0001", "", "")
    elsewhere = dataclasses.replace(here, collect_at="北区便民服务中心")
    mailed = dataclasses.replace(here, tracking_number="EA123456785CN")
    assert [(p["TemplateCode"], json.loads(p["TemplateParam"])) for p in map(
        gateway.signed_params, (here, elsewhere, mailed))] == [
        ("SMS_1", {"case": "SQ20261125-0001"}),
        ("SMS_2", {"case": "SQ20261125-0001", "hall": "北区便民服务中心"}),
        ("SMS_3", {"case": "SQ20261125-0001", "tracking": "EA123456785CN"})]
    # Without its own template the result template goes (the e-mail names the hall anyway).
    plain = dataclasses.replace(gateway, collect_template_code=None)
    assert plain.signed_params(elsewhere)["TemplateCode"] == "SMS_1"
