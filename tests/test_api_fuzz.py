"""Schemathesis against the app (in-process WSGI), on SQLite and on PostgreSQL: every
operation of /api/v1/openapi.json with valid and invalid data, then stateful runs along
the document's links. No answer may be a server error, and every answer must be one the
document describes (status, content type, body — the error shape included; 401/403 of the
access rules and 429 of the login and look-up limits too).

Each operation is called as the staff its access rule admits, logged in as the pages do
(session cookie plus ``X-CSRFToken``): window and clerk routes as the demo clerk at a
window, manager routes as the manager, admin routes as the admin, back office as an
approver; public and device routes as the clerk (a cookie-carrying browser).

Runtime is bounded: a few examples per operation, no deadline, no shrinking (a failure
is reported as found), the Hypothesis database off.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine, text

from hall_ops.queue.models import Window
from hall_ops.staff.demo import DEMO_PASSWORD, DEMO_PIN
from tests.conftest import StepClock
from tests.support.web import demo_logins, hall_app

EXAMPLES_PER_OPERATION = 12
STATEFUL_STEPS = 10
STATEFUL_SCENARIOS = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
CLERK_WINDOW, CLERK = 4, "c01"
STAFF_ADDRESS, STAFF_AGENT = "10.0.0.9", "hall-fuzz"
"""The fixtures log in from here, so the fuzzer's failed logins (limited per address) never
lock them out; the fuzzer's calls name the same address and agent, which the session
(Flask-Login's strong protection) is bound to."""

fuzz_settings = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
    phases=[p for p in settings.default.phases if p.name != "shrink"],
)


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request, tmp_path_factory, hall_config):
    """One hall per database for the module; the fuzzer's tickets and cases pile up in it."""
    admin, name = None, f"hallops_{uuid.uuid4().hex[:12]}"
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'hall.db'}"
    app = hall_app(hall_config, clock=StepClock(), database_url=url, secret_key="fuzz",
                   always_open=True)
    yield app
    app.extensions["hall"].db.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Sessions:
    """Staff logged in as the pages do, one test client each. Before every call the session
    is checked (``GET /api/v1/session``): the fuzzer logs out, closes the window, ends
    sessions; whoever is gone logs in again. The one place that knows how staff log in."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.clients: dict[str, Any] = {}
        self.approver = next(e.login for e in demo_logins(app) if e.role.startswith("approver "))

    def who(self, operation: Any) -> str:
        """The login an operation is called as, from its view's access rule."""
        view = self.app.view_functions[operation.definition.raw["operationId"]]
        rule = view.access_rule.name
        return {"manager": "manager", "admin": "admin", "approver": self.approver}.get(
            rule, CLERK)

    def headers(self, who: str = CLERK) -> dict[str, str]:
        client = self.clients.get(who)
        me = client.get("/api/v1/session").get_json() if client else None
        if me is None or not self._holds(who, me["staff"]):
            client = self.clients[who] = self._log_in(who)
            me = client.get("/api/v1/session").get_json()
        cookie = client.get_cookie("session")
        return {"Cookie": f"session={cookie.value}", "X-CSRFToken": me["csrf_token"],
                "X-Forwarded-For": STAFF_ADDRESS, "User-Agent": STAFF_AGENT}

    def _holds(self, who: str, staff: dict[str, Any] | None) -> bool:
        if staff is None or staff["login"] != who:
            return False
        if who != CLERK:
            return True
        with self.app.extensions["hall"].db.read() as s:
            window = s.get(Window, CLERK_WINDOW)
            return window is not None and window.clerk_id == CLERK

    def _log_in(self, who: str) -> Any:
        client = self.app.test_client()
        client.environ_base.update(REMOTE_ADDR=STAFF_ADDRESS, HTTP_USER_AGENT=STAFF_AGENT)
        if who == CLERK:
            answer = client.post(f"/api/v1/windows/{CLERK_WINDOW}/login",
                                 json={"clerk": CLERK, "pin": DEMO_PIN})
        else:
            answer = client.post("/api/v1/session", json={"login": who, "password": DEMO_PASSWORD})
        assert answer.status_code == 200, answer.get_json()
        return client


@pytest.fixture(scope="module")
def sessions(app) -> Sessions:
    return Sessions(app)


@pytest.fixture(scope="module")
def api_schema(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES_PER_OPERATION,
        database="none",
    )
    return schema


def fuzz(operation: Any, mode: GenerationMode, headers: Callable[[], dict[str, str]],
         **fixed: Any) -> str | None:
    """Run one operation's examples; the first failure found, or None."""

    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @fuzz_settings
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers(), checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing to get wrong: no parameters
    except (Exception, BaseExceptionGroup) as exc:  # collected, then reported together
        return f"{operation.label} ({mode.value}): {exc}"
    return None


def test_the_fuzzer_calls_as_staff(app, sessions):
    """The headers it sends log it in: otherwise every staff route would only answer 401."""
    client = app.test_client(use_cookies=False)
    for who, path in (("manager", "/api/v1/dashboard"), ("admin", "/api/v1/staff"),
                      (CLERK, f"/api/v1/windows/{CLERK_WINDOW}"),
                      (sessions.approver, "/api/v1/session")):
        answer = client.get(path, headers=sessions.headers(who))
        assert answer.status_code == 200, (who, path, answer.get_json())
    assert client.get("/api/v1/staff").status_code == 401


def test_every_operation(api_schema, sessions):
    """Each operation with valid data, then with invalid data (the 422s must say so), as
    the staff its rule admits; the window console's operations once more at the window the
    clerk is logged in at.

    Driven by hand rather than ``schema.parametrize()``: Schemathesis' lazy pytest
    integration does not run under pytest 9, and a per-database app is a fixture."""
    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        who = sessions.who(operation)

        def headers(who: str = who) -> dict[str, str]:
            return sessions.headers(who)

        failures += [fuzz(operation, mode, headers)
                     for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        if operation.path.startswith("/api/v1/windows/{number}"):
            failures.append(fuzz(operation, GenerationMode.POSITIVE, headers,
                                 path_parameters={"number": CLERK_WINDOW}))
    found = [failure for failure in failures if failure]
    assert not found, "\n\n".join(found)


def test_the_fuzzer_finds_an_answer_the_document_does_not_describe(app, sessions):
    """The checks bite: with 201 taken out of ``POST /tickets``, its answers are refused."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    del document["paths"]["/api/v1/tickets"]["post"]["responses"]["201"]
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app
    [operation] = [r.ok() for r in schema.get_all_operations()
                   if r.ok().label == "POST /api/v1/tickets"]
    found = fuzz(operation, GenerationMode.POSITIVE, sessions.headers,
                 body={"service": "enterprise"})
    assert found and "201" in found


def test_stateful_runs_along_the_links(api_schema, sessions, app):
    """Tickets taken, then followed, cancelled and rated; appointments booked and checked
    in; intakes accepted and their cases read — chained by the document's links."""
    links = [
        link for path in api_schema.raw_schema["paths"].values() for op in path.values()
        for response in op["responses"].values() for link in response.get("links", {})
    ]
    assert links, "the document has no links to follow"

    calls: list[str] = []

    class Workflow(api_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            calls.append(case.operation.label)
            return {"headers": sessions.headers(sessions.who(case.operation))}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Workflow.run(settings=settings(
        fuzz_settings, max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS,
    ))
    followed = {"GET /api/v1/tickets/{token}", "POST /api/v1/tickets/{token}/cancel",
                "POST /api/v1/tickets/{token}/rating", "POST /api/v1/appointments/{code}/check-in"}
    assert followed & set(calls), sorted(set(calls))
