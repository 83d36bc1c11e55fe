"""No input from the network yields a 500 or a stored control character (issue 8).

Each case below once answered HTTP 500 on SQLite, PostgreSQL or both: deep JSON nesting,
lone surrogates, integers past 2^63, Unicode digits such as "²", dates at the ends of the
calendar, NUL in fields and paths (PostgreSQL refuses it), and bodies of any size.
Every answer must be a JSON error of the documented shape, on either database.
"""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import create_engine, select, text

from hall_ops.queue.models import Appointment
from tests.conftest import StepClock
from tests.support.web import hall_app, staff_client, window_client

HUGE = str(2**63)


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request, tmp_path_factory, hall_config):
    """One hall per database for the whole module: every request here is refused, or
    adds what the next test does not mind."""
    admin, name = None, f"hallops_{uuid.uuid4().hex[:12]}"
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('edge') / 'hall.db'}"
    app = hall_app(hall_config, clock=StepClock(), database_url=url)
    yield app
    app.extensions["hall"].db.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def clerk(app):
    """A clerk logged in at window 4 (enterprise services) with a ticket in hand."""
    c = window_client(app, 4, "c01")
    assert c.post("/api/v1/tickets", json={"service": "enterprise"}).status_code == 201
    assert c.post("/api/v1/windows/4/call-next").status_code == 200
    return c


@pytest.fixture(scope="module")
def manager(app):
    return staff_client(app, "manager")


@pytest.fixture(scope="module")
def admin(app):
    return staff_client(app, "admin")


def refused(response, status: int = 422, code: str | None = None) -> dict:
    """A JSON error ``{"error", "message", …}`` with the given status."""
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body["error"], str) and body["message"]
    if code:
        assert body["error"] == code, body
    return body


def post_raw(client, path: str, text: str):
    return client.post(path, data=text.encode(), content_type="application/json")


def test_deeply_nested_json_is_refused(client):
    for body in ("[" * 100_000, '{"a":' * 50_000, "[" * 50 + "]" * 50):
        refused(post_raw(client, "/api/v1/tickets", body), code="bad_json")
    refused(post_raw(client, "/api/v1/tickets", "[" * 1_000_000), 413)
    refused(post_raw(client, "/api/v1/approval/callback", "[" * 100_000), 401)


@pytest.mark.parametrize("body", ["[]", "0", "false", '""', "null", "[1]"])
def test_a_body_that_is_not_an_object_is_refused(manager, body):
    """Not taken for an empty object, even where every field is optional."""
    refused(post_raw(manager, "/api/v1/workload/auto", body), code="bad_json")


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/api/v1/tickets", '{"service": "\\ud800"}'),
        ("/api/v1/tickets", '{"service": "enterprise", "priority": "\\udfff"}'),
        ("/api/v1/windows/4/login", '{"clerk": "\\ud800", "pin": "1234"}'),
        ("/api/v1/windows/4/login", '{"clerk": "c01", "pin": "\\ud800"}'),
        ("/api/v1/appointments",
         '{"service": "enterprise", "slot_start": "2026-11-26T10:00", "name": "\\ud800"}'),
        ("/api/v1/deliveries/check-in", '{"case_number": "\\ud800", "phone_last4": "1234"}'),
        ("/api/v1/tickets", '{"\\ud800": 1, "service": "enterprise"}'),
    ],
)
def test_lone_surrogates_are_refused(client, path, text):
    refused(post_raw(client, path, text))


def test_lone_surrogate_in_a_window_guard(clerk):
    refused(post_raw(clerk, "/api/v1/windows/4/recall", '{"ticket": "\\ud800"}'))


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/windows/{HUGE}/login",
        f"/api/v1/windows/{HUGE}",
        f"/api/v1/backoffice/cases/{HUGE}/claim",
        f"/api/v1/outbox/{HUGE}/resend",
        f"/api/v1/windows/{HUGE}/rating-pad",
    ],
)
def test_huge_numbers_in_paths_are_not_found(client, path):
    response = client.post(path, json={"clerk": "c01", "pin": "1234", "approver": "x"}) \
        if not path.endswith(("rating-pad", HUGE)) else client.get(path)
    refused(response, 404)


@pytest.mark.parametrize(
    "query",
    [f"window={HUGE}", "window=²", "limit=²", "limit=٣", "window=-1", f"limit={HUGE}"],
)
def test_bad_numbers_in_query_strings(client, query):
    refused(client.get(f"/api/v1/calls?{query}"), code="invalid_field")


def test_bad_numbers_in_bodies(client, clerk, manager):
    refused(clerk.post("/api/v1/windows/4/transfer", json={"window": 2**63}), code="invalid_field")
    refused(clerk.post("/api/v1/windows/4/transfer", json={"window": "²"}), code="invalid_field")
    refused(manager.get("/api/v1/workload/changes?limit=²"), code="invalid_field")
    booking = {"service": "enterprise", "slot_start": "2026-11-26T10:00", "name": "张三"}
    refused(client.post("/api/v1/appointments", json={**booking, "slot_minutes": "²"}))
    refused(client.post("/api/v1/appointments", json={**booking, "slot_minutes": 2**64}))
    proposal = {"kind": "assign", "window": 2**63, "from_services": ["enterprise"],
                "to_services": ["enterprise", "investment"], "before": {}, "after": {}}
    refused(manager.post("/api/v1/workload/proposals/apply", json={"proposal": proposal}))


def test_unicode_digit_rating_level(client, clerk):
    token = clerk.get("/api/v1/windows/4").get_json()["ticket"]["token"]
    refused(client.post(f"/api/v1/tickets/{token}/rating", json={"level": "²"}))


@pytest.mark.parametrize("start", ["9999-12-31T23:59", "0001-01-01T00:00", "2026-13-01T10:00"])
def test_appointment_slot_at_the_ends_of_the_calendar(client, start):
    body = {"service": "enterprise", "slot_start": start, "name": "张三"}
    refused(client.post("/api/v1/appointments", json=body), code="invalid_field")


def test_report_dates_at_the_ends_of_the_calendar(manager):
    for query in ("from=9999-12-31", "from=0001-01-01&to=9999-12-31", "from=²"):
        assert manager.get(f"/api/v1/reports/tickets?{query}").status_code == 422


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/tickets", {"service": "enter\u0000prise"}),
        ("/api/v1/windows/4/login", {"clerk": "c\u000001", "pin": "1234"}),
        ("/api/v1/appointments",
         {"service": "enterprise", "slot_start": "2026-11-26T10:00", "name": "张\u0000三"}),
        ("/api/v1/deliveries/check-in", {"case_number": "SQ\u0000", "phone_last4": "1234"}),
        ("/api/v1/appointments/12\u000034/check-in", {}),
    ],
)
def test_nul_in_fields_is_refused(client, path, body):
    assert client.post(path, json=body).status_code in (404, 422)
    refused(client.post(path, json=body), 404 if "\u0000" in path else 422)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/tickets/%00", "/api/v1/tickets/%00/cancel", "/api/v1/cases/%00",
     "/api/v1/services/%00", "/api/v1/services/%00/items", "/api/v1/items/%00/guide",
     "/api/v1/backoffice/%00/cases", "/api/v1/calls?zone=%00", "/api/v1/outbox?status=%00"],
)
def test_nul_in_api_paths_and_queries(admin, path):
    response = admin.post(path) if path.endswith("cancel") else admin.get(path)
    refused(response, 422 if "?" in path else 404)


@pytest.mark.parametrize(
    "path",
    ["/t/%00", "/cases/%00/slip", "/guide/%00", "/tickets/%00/print", "/qr/%00.svg",
     "/pad?window=²", "/screen?window=²", f"/intake?window={HUGE}", f"/pad?window={HUGE}"],
)
def test_nul_and_odd_numbers_in_pages(manager, path):
    """A manager may open any pad or screen page; the intake form is a clerk's, and its
    access rule refuses a window number the caller is not logged in at (never a 500)."""
    assert manager.get(path).status_code == (403 if path.startswith("/intake") else 404)


def test_nul_is_never_stored_in_an_applicant_name(app, client):
    body = {"service": "enterprise", "slot_start": "2026-11-26T10:00", "name": "张\u0000三"}
    assert client.post("/api/v1/appointments", json=body).status_code == 422
    with app.extensions["hall"].db.read() as s:
        names = s.scalars(select(Appointment.applicant_name)).all()
    assert not any("\u0000" in name for name in names)


def test_appointment_phone_is_a_phone_number(client):
    body = {"service": "enterprise", "slot_start": "2026-11-26T10:00", "name": "张三"}
    for phone in ("☎️😀", "<b>13800138000</b>", "12345", "１３８００１３８０００"):
        refused(client.post("/api/v1/appointments", json={**body, "phone": phone}),
                code="invalid_phone")
    for phone in ("13800138000", "+86 138 0013 8000", "010-12345678", "0571-8888888"):
        response = client.post("/api/v1/appointments", json={**body, "phone": phone})
        assert response.status_code == 201, response.get_json()


def test_text_is_nfc_normalised(app, client):
    body = {"service": "enterprise", "slot_start": "2026-11-26T10:00", "name": "Jose\u0301"}
    assert client.post("/api/v1/appointments", json=body).status_code == 201
    with app.extensions["hall"].db.read() as s:
        names = s.scalars(select(Appointment.applicant_name)).all()
    assert "Jos\u00e9" in names and "Jose\u0301" not in names


def test_big_bodies_are_refused_unread(client):
    big = json.dumps({"service": "enterprise", "pad": "x" * 5_000_000})
    refused(post_raw(client, "/api/v1/tickets", big), 413)
