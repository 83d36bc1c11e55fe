"""Self-service application forms through the API: the catalogue's form fields, drafts saved
by the ticket's holder with clear per-field errors, seen and deleted by them, expired by the
scheduler's cleanup, pulled by the clerk by ticket or case number and accepted without
re-typing (the clerk from the session, every correction recorded); the catalogue's checks of
forms.csv; ID numbers in drafts stored encrypted."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select, text

from hall_ops.cases.catalogue import CatalogueError, ServiceItem, load_catalogue
from hall_ops.cases.intake import get_case
from hall_ops.forms.drafts import CaseForm, FormDraft, delete_expired
from hall_ops.forms.spec import FORM_COLUMNS, FORM_OPTIONAL
from hall_ops.staff import log
from hall_web.jobs import delete_expired_drafts
from tests.conftest import ROOT
from tests.support.web import hall_app

APPLICANT = {"kind": "person", "name": "李四", "id_number": "330106198507201239",
             "phone": "13800138000"}
COMPANY = {"company_name": "杭州云帆科技有限公司", "registered_capital": "100",
           "address": "杭州市西湖区文三路90号", "legal_representative": "李四",
           "representative_id": "11010519491231002X", "business_scope": "软件开发、技术服务"}


def form(**changes):
    return {"items": ["QY-01"], "applicant": dict(APPLICANT), "fields": {"QY-01": dict(COMPANY)},
            **changes}


@pytest.fixture
def app(tmp_path, hall_config, clock):
    app = hall_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'hall.db'}")
    with app.extensions["hall"].db.write() as s:
        if not s.scalar(select(func.count()).select_from(ServiceItem)):
            load_catalogue(s, ROOT / "data" / "catalogue")
    yield app
    app.extensions["hall"].db.dispose()


@pytest.fixture
def citizen(app):
    c = app.test_client()
    ticket = c.post("/api/v1/tickets", json={"service": "enterprise"}).json
    c.ticket = ticket  # type: ignore[attr-defined]
    return c


def draft_url(citizen) -> str:
    return f"/api/v1/tickets/{citizen.ticket['token']}/draft"


def clerk_at(app, window: int = 4, clerk: str = "c04"):
    c = app.test_client()
    assert c.post(f"/api/v1/windows/{window}/login",
                  json={"clerk": clerk, "pin": "1234"}).status_code == 200
    return c


def serve_next(clerk, window: int = 4) -> str:
    called = clerk.post(f"/api/v1/windows/{window}/call-next").json["ticket"]
    assert clerk.post(f"/api/v1/windows/{window}/start").status_code == 200
    return called["number"]


def materials_of(app, item: str) -> list[str]:
    guide = app.test_client().get(f"/api/v1/items/{item}/guide").json
    return [m["name_zh"] for m in guide["materials"]]


def test_an_items_form_is_described_from_the_catalogue(app):
    r = app.test_client().get("/api/v1/items/QY-01/form")
    assert r.status_code == 200
    body = r.json
    assert [f["name"] for f in body["applicant"]] == ["kind", "name", "id_number", "phone",
                                                      "email"]
    fields = {f["name"]: f for f in body["fields"]}
    assert list(fields)[:2] == ["company_name", "registered_capital"]
    assert fields["registered_capital"]["type"] == "number"
    assert (fields["registered_capital"]["minimum"], fields["registered_capital"]["maximum"]) \
        == ("1", "1000000")
    assert fields["company_name"]["label_en"] == "Proposed company name"
    assert fields["company_name"]["help_zh"].startswith("须含")
    assert fields["representative_id"]["type"] == "id_number"
    choices = app.test_client().get("/api/v1/items/QY-05/form").json["fields"][3]["choices"]
    assert [c["code"] for c in choices] == ["individual", "family"]
    assert app.test_client().get("/api/v1/items/QY-08/form").json["fields"] == []  # none
    assert app.test_client().get("/api/v1/items/NOPE/form").status_code == 404


def test_form_errors_are_clear_json_per_field(app, citizen):
    bad = form(applicant={**APPLICANT, "id_number": "330106198507201238"})  # check digit
    del bad["fields"]["QY-01"]["company_name"]
    bad["fields"]["QY-01"]["registered_capital"] = "0"
    bad["fields"]["QY-01"]["address"] = "西湖"
    r = citizen.put(draft_url(citizen), json=bad)
    assert r.status_code == 422
    body = r.json
    assert body["error"] == "invalid_form" and body["field"] == "applicant.id_number"
    errors = {e["field"]: e for e in body["errors"]}
    assert set(errors) == {"applicant.id_number", "fields.QY-01.company_name",
                           "fields.QY-01.registered_capital", "fields.QY-01.address"}
    assert errors["applicant.id_number"]["code"] == "invalid_resident_id"
    assert errors["fields.QY-01.company_name"]["code"] == "missing_field"
    assert errors["fields.QY-01.company_name"]["label_zh"] == "拟设公司名称"
    assert errors["fields.QY-01.registered_capital"]["code"] == "out_of_range"
    assert errors["fields.QY-01.address"]["code"] == "too_short"
    cases = [
        ({"fields": {"QY-01": {**COMPANY, "company_name": "杭州云帆科技"}}},
         "fields.QY-01.company_name", "pattern_mismatch"),
        ({"fields": {"QY-01": {**COMPANY, "representative_id": "123"}}},
         "fields.QY-01.representative_id", "invalid_resident_id"),
        ({"fields": {"QY-01": {**COMPANY, "surprise": "x"}}},
         "fields.QY-01.surprise", "unknown_field"),
        ({"applicant": {**APPLICANT, "phone": "12345"}}, "applicant.phone", "invalid_phone"),
        ({"applicant": {**APPLICANT, "kind": "organisation"}}, "applicant.id_number",
         "invalid_credit_code"),
        ({"applicant": {**APPLICANT, "kind": "robot"}}, "applicant.kind", "invalid_choice"),
        ({"applicant": {**APPLICANT, "name": ""}}, "applicant.name", "missing_field"),
    ]
    for changes, field, code in cases:
        r = citizen.put(draft_url(citizen), json=form(**changes))
        assert r.status_code == 422, (changes, r.json)
        assert "errors" in r.json, r.json
        assert (r.json["errors"][0]["field"], r.json["errors"][0]["code"]) == (field, code), r.json
    checked = app.test_client().post("/api/v1/forms/check", json=bad)  # the kiosk asks first
    assert checked.status_code == 422 and checked.json["errors"] == body["errors"]
    assert app.test_client().post("/api/v1/forms/check", json=form()).json == {"ok": True}
    r = citizen.put(draft_url(citizen), json={"items": ["QY-01"]})  # the edge's own check
    assert r.status_code == 422 and r.json["error"] == "missing_field"
    r = citizen.put(draft_url(citizen), json=form(items=["QY-01", "QY-01"]))
    assert r.json["error"] == "duplicate_item"
    r = citizen.put(draft_url(citizen), json=form(items=["QY-08"]))  # fields of another item
    assert r.status_code == 422 and r.json["field"] == "fields.QY-01"
    r = citizen.put(draft_url(citizen), json=form(), headers={"Accept-Language": "zh"})
    assert r.status_code == 200
    organisation = {**APPLICANT, "kind": "organisation", "name": "杭州云帆投资有限公司",
                    "id_number": "91330106MA27XL0E27"}
    r = citizen.put(draft_url(citizen), json=form(applicant=organisation))
    assert r.status_code == 200, r.json


def test_the_citizen_sees_and_deletes_what_they_typed(app, citizen):
    url = draft_url(citizen)
    assert citizen.get(url).status_code == 404
    saved = citizen.put(url, json=form())
    assert saved.status_code == 200 and saved.json["source"] == "phone"
    assert saved.json["ticket"] == citizen.ticket["number"]
    shown = citizen.get(url).json
    assert shown["applicant"]["id_number"] == "330106198507201239"
    assert shown["fields"]["QY-01"]["registered_capital"] == "100"
    with app.extensions["hall"].db.engine.connect() as conn:
        stored = conn.execute(text("SELECT \"values\" FROM form_drafts")).scalar_one()
    assert stored.startswith("v1:") and "330106198507201239" not in stored
    assert "李四" not in stored
    assert citizen.delete(url).json == {"deleted": True}
    assert citizen.get(url).status_code == 404
    assert citizen.delete(url).json == {"deleted": False}
    assert app.test_client().get("/api/v1/tickets/nonsense/draft").status_code == 404


def test_a_kiosk_saves_as_kiosk_and_a_finished_ticket_takes_no_form(app, citizen):
    from tests.support.web import device_client

    kiosk = device_client(app, "hall", "kiosk")
    assert kiosk.put(draft_url(citizen), json=form()).json["source"] == "kiosk"
    assert citizen.post(f"/api/v1/tickets/{citizen.ticket['token']}/cancel").status_code == 200
    r = citizen.put(draft_url(citizen), json=form())
    assert r.status_code == 409 and r.json["error"] == "ticket_not_open"


def test_drafts_expire(app, citizen, clock):
    hall = app.extensions["hall"]
    assert citizen.put(draft_url(citizen), json=form()).status_code == 200
    hours = hall.config.sections.forms.draft_hours
    clock.advance(hours=hours - 1)
    assert citizen.get(draft_url(citizen)).status_code == 200
    assert delete_expired_drafts(hall) == 0
    clock.advance(hours=2)
    assert citizen.get(draft_url(citizen)).status_code == 404  # past its time, even unswept
    clerk = clerk_at(app)
    assert clerk.get(f"/api/v1/windows/4/drafts?ref={citizen.ticket['number']}").json[
        "drafts"] == []
    assert delete_expired_drafts(hall) == 1  # the scheduler's job deletes the row
    with hall.db.write() as s:
        assert s.scalar(select(func.count(FormDraft.id))) == 0
        assert delete_expired(s, clock()) == 0


def test_a_draft_goes_with_its_ticket(app, citizen):
    """A ticket that is over takes its draft with it at the next cleanup, whatever its time."""
    hall = app.extensions["hall"]
    other = app.test_client()
    kept = other.post("/api/v1/tickets", json={"service": "enterprise"}).json
    assert citizen.put(draft_url(citizen), json=form()).status_code == 200
    assert other.put(f"/api/v1/tickets/{kept['token']}/draft", json=form()).status_code == 200
    assert citizen.post(f"/api/v1/tickets/{citizen.ticket['token']}/cancel").status_code == 200
    assert delete_expired_drafts(hall) == 1
    assert other.get(f"/api/v1/tickets/{kept['token']}/draft").status_code == 200


def test_the_clerk_pulls_and_accepts_without_retyping(app, citizen):
    assert citizen.put(draft_url(citizen), json=form()).status_code == 200
    clerk = clerk_at(app)
    assert clerk.get("/api/v1/windows/4/drafts").json["error"] == "no_current_ticket"
    number = serve_next(clerk)
    assert number == citizen.ticket["number"]
    pulled = clerk.get("/api/v1/windows/4/drafts").json  # the ticket in hand
    assert pulled["ref"] == number and len(pulled["drafts"]) == 1
    draft = pulled["drafts"][0]
    assert draft["applicant"]["name"] == "李四"
    assert clerk.get(f"/api/v1/windows/4/drafts?ref={number.lower()}").json["drafts"] == [draft]
    assert clerk.get("/api/v1/windows/4/drafts?ref=nonsense").json["error"] == \
        "invalid_reference"
    other = clerk_at(app, 5, "c05")
    assert other.get("/api/v1/windows/4/drafts").status_code == 403
    checked = {"items": draft["items"], "applicant": draft["applicant"],
               "fields": draft["fields"]}
    body = {"form": checked, "received": materials_of(app, "QY-01"), "ticket": number}
    r = clerk.post(f"/api/v1/windows/4/drafts/{draft['id']}/accept",
                   json={**body, "accepted_by": "mallory"})
    assert r.status_code == 422  # the clerk is the session's, never the body's
    r = clerk.post(f"/api/v1/windows/4/drafts/{draft['id']}/accept", json=body)
    assert r.status_code == 201, r.json
    assert r.json["corrected"] == []
    case_number = r.json["case_number"]
    hall = app.extensions["hall"]
    with hall.db.read() as s:
        case = get_case(s, case_number)
        assert (case.applicant_name, case.applicant_id_number, case.applicant_phone) == (
            "李四", "330106198507201239", "13800138000")
        assert [i.item_code for i in case.items] == ["QY-01"]
        kept = s.scalars(select(CaseForm)).one()
        assert (kept.accepted_by, kept.source, kept.corrected) == ("c04", "phone", [])
        assert kept.values["fields"]["QY-01"]["company_name"] == "杭州云帆科技有限公司"
        assert s.scalar(select(func.count(FormDraft.id))) == 0  # the draft is gone
        reads = [e["subject"] for e in log.recent_events(s, kinds=["personal_data_read"])]
    assert f"case:draft:{draft['id']}" in reads  # the pull showed an identity: logged
    again = clerk.post(f"/api/v1/windows/4/drafts/{draft['id']}/accept", json=body)
    assert again.status_code == 404 and again.json["error"] == "unknown_draft"
    # by case number: the applicant comes back with another ticket and a new form
    assert clerk.post("/api/v1/windows/4/finish", json={}).status_code == 200
    later = app.test_client()
    ticket = later.post("/api/v1/tickets", json={"service": "enterprise"}).json
    with hall.db.write() as s:  # that ticket is a visit of the case (a supplement)
        from hall_ops.cases.models import CaseVisit
        from hall_ops.queue.models import Ticket

        t = s.scalars(select(Ticket).where(Ticket.status_token == ticket["token"])).one()
        s.add(CaseVisit(case_id=case.id, ticket_id=t.id, window_number=4, at=t.taken_at,
                        purpose="supplement"))
    changed = form(applicant={**APPLICANT, "phone": "13900139000"})
    assert later.put(f"/api/v1/tickets/{ticket['token']}/draft", json=changed).status_code == 200
    by_case = clerk.get(f"/api/v1/windows/4/drafts?ref={case_number}").json["drafts"]
    assert [d["ticket"] for d in by_case] == [ticket["number"]]
    assert clerk.get("/api/v1/windows/4/drafts?ref=SQ20990101-0001").status_code == 404


def test_corrections_by_the_clerk_are_recorded(app, citizen):
    assert citizen.put(draft_url(citizen), json=form()).status_code == 200
    clerk = clerk_at(app)
    number = serve_next(clerk)
    draft = clerk.get("/api/v1/windows/4/drafts").json["drafts"][0]
    fields = {"QY-01": {**draft["fields"]["QY-01"], "registered_capital": "120"}}
    checked = {"items": draft["items"], "applicant": {**draft["applicant"], "name": "李 四"},
               "fields": fields}
    bad = {**checked, "applicant": {**checked["applicant"], "id_number": "1"}}
    body = {"received": materials_of(app, "QY-01"), "ticket": number}
    r = clerk.post(f"/api/v1/windows/4/drafts/{draft['id']}/accept", json={**body, "form": bad})
    assert r.status_code == 422 and r.json["error"] == "invalid_form"  # checked again
    r = clerk.post(f"/api/v1/windows/4/drafts/{draft['id']}/accept",
                   json={**body, "form": checked})
    assert r.status_code == 201
    assert r.json["corrected"] == ["applicant.name", "fields.QY-01.registered_capital"]
    r = clerk.post(f"/api/v1/windows/4/drafts/{draft['id']}/accept", json={**body, "form": checked})
    assert r.status_code == 404


def test_a_key_material_missing_refuses_and_keeps_the_draft(app, citizen):
    assert citizen.put(draft_url(citizen), json=form()).status_code == 200
    clerk = clerk_at(app)
    number = serve_next(clerk)
    draft = clerk.get("/api/v1/windows/4/drafts").json["drafts"][0]
    checked = {k: draft[k] for k in ("items", "applicant", "fields")}
    r = clerk.post(f"/api/v1/windows/4/drafts/{draft['id']}/accept",
                   json={"form": checked, "ticket": number})
    assert r.status_code == 422 and r.json["error"] == "key_material_missing"
    assert citizen.get(draft_url(citizen)).status_code == 200


# ---------------------------------------------------------------- the catalogue's forms.csv


def write_forms(directory, rows):
    import csv
    import shutil

    shutil.copytree(ROOT / "data" / "catalogue", directory)
    with (directory / "forms.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(FORM_COLUMNS + FORM_OPTIONAL)
        for row in rows:
            writer.writerow([row.get(c, "") for c in FORM_COLUMNS + FORM_OPTIONAL])


BASE = {"item_code": "QY-01", "field": "x", "type": "text", "required": "true",
        "label_zh": "甲", "label_en": "A"}


@pytest.mark.parametrize(("row", "reason"), [
    ({"item_code": "NOPE"}, "unknown item 'NOPE'"),
    ({"field": "Bad Name"}, "field 'Bad Name'"),
    ({"type": "colour"}, "type 'colour'"),
    ({"type": "choice"}, "a choice field lists its choices"),
    ({"type": "choice", "choices": "a:甲"}, "choice 'a:甲'"),
    ({"pattern": "("}, "pattern does not compile"),
    ({"type": "number", "minimum": "many"}, "bound 'many' is not a number"),
    ({"type": "date", "maximum": "tomorrow"}, "an ISO date"),
    ({"max_length": "900"}, "max_length is at most 500"),
    ({"type": "phone", "max_length": "9"}, "belong to text and address"),
    ({"required": "yes"}, "required must be true or false"),
])
def test_bad_form_rows_are_refused_naming_the_line(tmp_path, db, row, reason):
    directory = tmp_path / "catalogue"
    write_forms(directory, [{**BASE, "field": "first"}, {**BASE, **row}])
    with pytest.raises(CatalogueError) as refused, db.write() as s:
        load_catalogue(s, directory)
    assert str(refused.value).startswith(f"{directory / 'forms.csv'}:3: ")
    assert reason in str(refused.value)


def test_a_catalogue_without_forms_has_the_applicant_section_only(tmp_path, db, hall_config):
    import shutil

    directory = tmp_path / "catalogue"
    shutil.copytree(ROOT / "data" / "catalogue", directory)
    with db.write() as s:
        assert load_catalogue(s, ROOT / "data" / "catalogue")["form_fields"] > 20
    (directory / "forms.csv").unlink()
    with db.write() as s:
        assert load_catalogue(s, directory)["form_fields"] == 0


def test_the_draft_lifetime_is_configured(tmp_path, hall_config, clock):
    config = dataclasses.replace(hall_config, raw={**hall_config.raw,
                                                   "forms": {"draft_hours": 2.0}})
    app = hall_app(config, clock=clock, database_url=f"sqlite:///{tmp_path / 'h.db'}")
    try:
        c = app.test_client()
        token = c.post("/api/v1/tickets", json={"service": "enterprise"}).json["token"]
        saved = c.put(f"/api/v1/tickets/{token}/draft", json=form()).json
        gap = (dt.datetime.fromisoformat(saved["expires_at"])
               - dt.datetime.fromisoformat(saved["saved_at"]))
        assert gap == dt.timedelta(hours=2)
    finally:
        app.extensions["hall"].db.dispose()
