"""Health, readiness, Prometheus metrics, request ids and JSON logs (Flask test client)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import threading
import time

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client.parser import text_string_to_metric_families

from hall_ops.cases.models import HandoffMessage
from hall_ops.config import ServerOptions
from hall_web.app import create_app
from hall_web.logs import configure_logging
from sensors.models import Camera
from tests.support.web import hall_app, window_client


def make_app(tmp_path, config, clock, **kwargs):
    return hall_app(config, clock=clock, database_url=f"sqlite:///{tmp_path / 'hall.db'}",
                    **kwargs)


@pytest.fixture
def app(tmp_path, hall_config, clock):
    app = make_app(tmp_path, hall_config, clock)
    yield app
    app.extensions["hall"].db.dispose()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    raise AssertionError(f"no sample {name} {labels} in:\n{text}")


def scrape(app) -> str:
    reply = app.test_client().get("/metrics")
    assert reply.status_code == 200, reply.text
    assert reply.content_type.startswith("text/plain; version=")
    return reply.text


def test_healthz_and_readyz(app):
    client = app.test_client()
    assert client.get("/healthz").json == {"status": "alive"}
    reply = client.get("/readyz")
    assert reply.status_code == 200
    assert reply.json == {"status": "ready", "checks": {"database": {"ok": True}},
                          "cameras": {"unknown": 3}}  # no Redis, no scheduler in this app


@pytest.mark.redis
def test_readyz_checks_redis_when_a_message_queue_is_configured(
    tmp_path, hall_config, clock, redis_server
):
    up = make_app(tmp_path, hall_config, clock, message_queue=redis_server)
    reply = up.test_client().get("/readyz")
    assert reply.status_code == 200, reply.json
    assert reply.json["checks"]["redis"] == {"ok": True}
    up.extensions["hall"].db.dispose()


@pytest.mark.postgres
def test_readyz_is_503_when_the_database_is_gone(tmp_path, hall_config, clock, pg_server, pg_url):
    from sqlalchemy import create_engine, text

    app = create_app(hall_config, clock=clock, database_url=pg_url, secret_key="test")
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    app.extensions["hall"].db.dispose()
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{pg_url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()
    reply = client.get("/readyz")
    assert reply.status_code == 503
    assert reply.json["status"] == "not_ready"
    assert reply.json["checks"]["database"]["ok"] is False
    assert "cameras" not in reply.json
    text_ = scrape(app)  # the process still answers, and says the database is down
    assert sample(text_, "hall_database_up") == 0
    assert sample(text_, "hall_socketio_clients") == 0
    app.extensions["hall"].db.dispose()


def test_tickets_calls_and_waits_are_counted_from_domain_events(app, clock):
    kiosk = app.test_client()
    for priority in ("normal", "normal", "elderly"):
        assert kiosk.post("/api/v1/tickets", json={"service": "enterprise",
                                                   "priority": priority}).status_code == 201
    assert kiosk.post("/api/v1/tickets", json={"service": "social_security"}).status_code == 201
    clerk = window_client(app, 4, "c01")
    clock.advance(minutes=7)
    assert clerk.post("/api/v1/windows/4/call-next").status_code == 200
    assert clerk.post("/api/v1/windows/4/recall").status_code == 200

    text = scrape(app)
    issued = "hall_tickets_issued_total"
    assert sample(text, issued, service="enterprise", priority="normal") == 2
    assert sample(text, issued, service="enterprise", priority="elderly") == 1
    assert sample(text, issued, service="social_security", priority="normal") == 1
    assert sample(text, issued, service="notary", priority="normal") == 0  # exists from the start
    assert sample(text, "hall_calls_total", service="enterprise", recall="false") == 1
    assert sample(text, "hall_calls_total", service="enterprise", recall="true") == 1
    # One wait (the recall is not a new wait) of about 7 minutes: in (300, 600].
    assert sample(text, "hall_wait_seconds_count", service="enterprise") == 1
    assert sample(text, "hall_wait_seconds_bucket", service="enterprise", le="300.0") == 0
    assert sample(text, "hall_wait_seconds_bucket", service="enterprise", le="600.0") == 1
    assert 420 <= sample(text, "hall_wait_seconds_sum", service="enterprise") < 421
    # Waiting now, read from the database: two enterprise tickets left, one social security.
    assert sample(text, "hall_waiting_tickets", service="enterprise") == 2
    assert sample(text, "hall_waiting_tickets", service="social_security") == 1


def test_outbox_cameras_and_socketio_clients_are_read_at_scrape_time(app, clock):
    hall = app.extensions["hall"]
    now = clock()
    with hall.db.write() as session:
        for n, (status, age) in enumerate((("pending", 90), ("pending", 30), ("dead", 600),
                                           ("delivered", 900))):
            session.add(HandoffMessage(
                idempotency_key=f"k{n}", case_number=f"C{n}", department="scj", payload={},
                status=status, attempts=1, next_attempt_at=now,
                created_at=now - dt.timedelta(seconds=age)))
        session.add(Camera(name="cam-front-1", zone_code="front_intake", host="127.0.0.1",
                           port=18081, role="occupancy", status="online"))
        session.add(Camera(name="cam-egov-1", zone_code="egov_experience", host="127.0.0.1",
                           port=18083, role="occupancy", status="unauthorized"))
    socketio = hall.socketio
    screens = []
    for room in ("hall", "hall", "zone:front_intake"):
        client = socketio.test_client(app)
        assert client.emit("join", {"room": room}, callback=True) == {"ok": True, "room": room}
        screens.append(client)
    socketio.test_client(app)  # connected, in no room yet

    text = scrape(app)
    assert sample(text, "hall_outbox_messages", status="pending") == 2
    assert sample(text, "hall_outbox_messages", status="dead") == 1
    assert 90 <= sample(text, "hall_outbox_oldest_pending_seconds") < 91
    assert sample(text, "hall_cameras", status="online") == 1
    assert sample(text, "hall_cameras", status="unauthorized") == 1
    assert sample(text, "hall_cameras", status="unknown") == 1  # cam-public-door: never polled
    assert sample(text, "hall_socketio_clients") == 4
    assert sample(text, "hall_socketio_room_clients", room="hall") == 2
    assert sample(text, "hall_socketio_room_clients", room="zone:front_intake") == 1
    assert sample(text, "hall_socketio_room_clients", room="window:4") == 0
    assert sample(text, "hall_database_up") == 1
    assert sample(text, "process_resident_memory_bytes") > 0

    screens[0].disconnect()
    assert sample(scrape(app), "hall_socketio_room_clients", room="hall") == 1


def test_job_runs_are_counted_by_outcome(app):
    ran = threading.Event()

    def broken() -> None:
        ran.set()
        raise RuntimeError("job failed on purpose")

    scheduler = BackgroundScheduler()
    scheduler.add_job(lambda: None, id="fine")
    scheduler.add_job(broken, id="broken")
    app.extensions["metrics"].watch(scheduler)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    try:
        assert ran.wait(10)
        deadline = time.monotonic() + 10
        while True:
            text = scrape(app)
            try:
                assert sample(text, "hall_job_runs_total", job="fine", outcome="ok") == 1
                assert sample(text, "hall_job_runs_total", job="broken", outcome="error") == 1
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert sample(text, "hall_scheduler_running") == 1
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 200
        assert ready.json["checks"]["scheduler"] == {"ok": True, "jobs": 0}  # both ran once
    finally:
        scheduler.shutdown()
    assert app.test_client().get("/readyz").status_code == 503  # jobs were to run, and don't


def test_metrics_only_for_loopback_or_the_token(tmp_path, hall_config, clock):
    app = make_app(tmp_path, hall_config, clock)
    client = app.test_client()
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 403
    # Without a proxy in front, X-Forwarded-For is not believed either way.
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"},
                      environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 403
    app.extensions["hall"].db.dispose()

    raw = {**hall_config.raw, "metrics": {"token": "s3cret-token"}}
    with_token = make_app(tmp_path / "t", dataclasses.replace(hall_config, raw=raw), clock)
    client = with_token.test_client()
    assert client.get("/metrics").status_code == 403  # loopback is not enough any more
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    allowed = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"},
                         environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert allowed.status_code == 200 and "hall_tickets_issued_total" in allowed.text
    with_token.extensions["hall"].db.dispose()


def test_proxy_fix_believes_exactly_the_trusted_proxies(tmp_path, hall_config, clock):
    config = dataclasses.replace(hall_config, server=ServerOptions(trusted_proxies=1))
    app = make_app(tmp_path, config, clock)
    client = app.test_client()
    # nginx on loopback appends the client's address; that one is believed, a forged one
    # before it is not.
    outside = {"X-Forwarded-For": "127.0.0.1, 203.0.113.9", "X-Forwarded-Proto": "https"}
    assert client.get("/metrics", headers=outside).status_code == 403
    inside = {"X-Forwarded-For": "203.0.113.9, 127.0.0.1"}
    assert client.get("/metrics", headers=inside).status_code == 200
    ticket = client.post("/api/v1/tickets", json={"service": "enterprise"},
                         headers={**outside, "Referer": "https://localhost/kiosk"})
    assert ticket.json["status_url"].startswith("https://localhost/t/")
    app.extensions["hall"].db.dispose()


def test_request_id_is_echoed_or_made(app):
    client = app.test_client()
    assert client.get("/healthz", headers={"X-Request-ID": "nginx-42.a"}).headers[
        "X-Request-ID"] == "nginx-42.a"
    made = client.get("/api/v1/hall").headers["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/api/v1/hall").headers["X-Request-ID"]
    forged = client.get("/healthz", headers={"X-Request-ID": "x\" level=ERROR"})
    assert forged.headers["X-Request-ID"] not in ("x\" level=ERROR", "-")
    error = client.get("/api/v1/tickets/nope", headers={"X-Request-ID": "r-404"})
    assert error.status_code == 404 and error.headers["X-Request-ID"] == "r-404"


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield
    root.handlers[:], level = saved
    root.setLevel(level)


def test_json_log_lines_carry_the_request_id(app, capsys, restore_logging):
    configure_logging("json")

    @app.get("/test-only/log")
    def log_something():
        logging.getLogger("hall_web.test").warning("窗口 %d 叫号", 7)
        return "ok"

    client = app.test_client()
    assert client.get("/test-only/log", headers={"X-Request-ID": "req-7"}).status_code == 200
    logging.getLogger("hall_web.test").warning("outside a request")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    inside, outside = lines[-2], lines[-1]
    assert inside["message"] == "窗口 7 叫号"  # Chinese as it is, not \\u escapes
    assert (inside["request_id"], inside["level"], inside["logger"]) == (
        "req-7", "WARNING", "hall_web.test")
    assert {"time", "process"} <= set(inside)
    assert (outside["message"], outside["request_id"]) == ("outside a request", "-")


def test_server_options_are_checked():
    from hall_ops.config import ConfigError

    assert ServerOptions.from_section({}) == ServerOptions()
    for bad in ({"log_format": "xml"}, {"trusted_proxies": -1}, {"connections": "many"},
                {"graceful_timeout": True}):
        with pytest.raises(ConfigError):
            ServerOptions.from_section(bad)
