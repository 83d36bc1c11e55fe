"""Citizen notices sent for real: a signed SMS gateway and SMTP, through outages.

The gateway is ``tests/support/sms_gateway.py`` (a real HTTP server on loopback that
checks signatures); the mail server is aiosmtpd on loopback with STARTTLS and login.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select, update

from hall_ops.cases.catalogue import load_catalogue
from hall_ops.cases.delivery import notice_state
from hall_ops.cases.handoff import RetryPolicy
from hall_ops.cases.models import Case, CitizenNotice, Delivery
from hall_ops.cases.notices import (
    SmsGateway,
    SmtpEmail,
    notify_ready,
    retry_now,
    settings_from_config,
    unsent,
)
from hall_ops.config import ConfigError
from tests.support.server import free_port
from tests.support.sms_gateway import SmsGatewayStub
from tests.test_delivery import decide
from tests.test_intake import NOW, ROOT, flat_case

KEY_ID, SECRET = "LTAI-hall-test", "s3cret-hall-key"
SIGN, TEMPLATE = "市民中心", "SMS_305000001"


@pytest.fixture
def ready_case(db, hall_config) -> str:
    with db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
    number = flat_case(db, hall_config)
    decide(db, number)
    return number


@pytest.fixture
def gateway():
    with SmsGatewayStub(KEY_ID, SECRET, SIGN, TEMPLATE) as stub:
        yield stub


def sms(stub: SmsGatewayStub, secret: str = SECRET) -> SmsGateway:
    return SmsGateway(endpoint=stub.url, access_key_id=KEY_ID, access_key_secret=secret,
                      sign_name=SIGN, template_code=TEMPLATE, timeout_seconds=3)


def the_notice(db) -> tuple[CitizenNotice, Delivery]:
    with db.read() as s:
        notice = s.scalars(select(CitizenNotice)).one()
        delivery = s.get(Delivery, notice.delivery_id)
        assert delivery is not None
        return notice, delivery


def state(db) -> str | None:
    with db.read() as s:
        return notice_state(s, s.scalars(select(Delivery)).one())


POLICY = RetryPolicy(max_attempts=4, base_seconds=1, cap_seconds=10)


def test_sms_through_a_gateway_outage_then_recovery(db, ready_case, gateway):
    channels = {"sms": sms(gateway)}
    gateway.down = True  # the gateway answers 503
    report = notify_ready(db, channels, NOW, policy=POLICY)
    assert (report.sent, report.failed) == (0, 1)
    notice, delivery = the_notice(db)
    assert notice.status == "pending" and notice.attempts == 1 and "503" in notice.last_error
    assert delivery.notified_at is None and state(db) == "sending"
    with db.read() as s:
        (waiting,) = unsent(s)
    assert waiting["case_number"] == ready_case and waiting["phone"] == "138****8000"
    assert waiting["notices"][0]["last_error"].startswith("SMS gateway answered 503")

    gateway.stop()  # now nothing answers at all
    at = NOW + dt.timedelta(minutes=1)
    assert notify_ready(db, channels, at, policy=POLICY).failed == 1
    notice, _ = the_notice(db)
    assert notice.attempts == 2 and "unreachable" in notice.last_error
    # Backoff with full jitter: the third try is due within 1·2^(2−1) s of the second.
    assert at <= notice.next_attempt_at <= at + dt.timedelta(seconds=3)

    gateway.start()
    gateway.down = False
    later = NOW + dt.timedelta(minutes=2)  # past the backoff of the second try (≤ 2 s)
    assert notify_ready(db, channels, later, policy=POLICY).sent == 1
    notice, delivery = the_notice(db)
    assert notice.status == "sent" and notice.attempts == 3 and notice.last_error is None
    assert delivery.notified_at is not None and state(db) == "notified"
    (accepted,) = gateway.accepted
    assert accepted["PhoneNumbers"] == "13800138000" and accepted["SignName"] == SIGN
    assert accepted["TemplateParam"] == f'{{"case": "{ready_case}"}}'
    assert notice.provider_id and notice.provider_id != ""
    assert notify_ready(db, channels, later + dt.timedelta(minutes=5), policy=POLICY).sent == 0
    assert len(gateway.accepted) == 1  # sent once
    with db.read() as s:
        assert unsent(s) == []


def test_a_wrong_secret_is_refused_by_the_gateway_and_never_marked_sent(db, ready_case,
                                                                        gateway):
    channels = {"sms": sms(gateway, secret="not-the-secret")}
    for minute in range(POLICY.max_attempts):
        notify_ready(db, channels, NOW + dt.timedelta(minutes=10 * minute), policy=POLICY)
    notice, delivery = the_notice(db)
    assert notice.status == "failed" and notice.attempts == POLICY.max_attempts
    assert "SignatureDoesNotMatch" in notice.last_error
    assert delivery.notified_at is None and state(db) == "not_notified"
    assert gateway.accepted == [] and set(gateway.rejected) == {"SignatureDoesNotMatch"}

    # The manager sends it again once the key is fixed.
    retry_now(db, notice.id, NOW + dt.timedelta(hours=1))
    notify_ready(db, {"sms": sms(gateway)}, NOW + dt.timedelta(hours=1), policy=POLICY)
    assert the_notice(db)[0].status == "sent" and len(gateway.accepted) == 1


def test_without_a_channel_the_case_says_not_notified(db, ready_case):
    assert notify_ready(db, {}, NOW).sent == 0
    assert state(db) == "not_notified"
    with db.read() as s:
        (waiting,) = unsent(s)
        assert s.scalars(select(CitizenNotice)).all() == []
    assert waiting["notices"] == []


# ---------------------------------------------------------------- e-mail


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (Debian's openssl)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 Message accepted for delivery"


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and \
        (auth_data.login, auth_data.password) == (b"hall", b"mail-pass")
    return AuthResult(success=ok)


def test_email_over_starttls_with_login_through_an_outage(db, ready_case, certificate):
    import ssl

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox()
    port = free_port()
    with db.write() as s:
        s.execute(update(Case).values(applicant_email="zhang.san@example.cn"))
    channels = {"email": SmtpEmail(host="127.0.0.1", port=port, security="starttls",
                                   username="hall", password="mail-pass",
                                   sender="hall@example.gov.cn", ca_file=str(cert),
                                   timeout_seconds=5)}

    # No mail server yet: the notice waits.
    assert notify_ready(db, channels, NOW, policy=POLICY).failed == 1
    assert "Connection refused" in the_notice(db)[0].last_error

    controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, authenticator=authenticate,
                            auth_require_tls=True)
    controller.start()
    try:
        assert notify_ready(db, channels, NOW + dt.timedelta(minutes=5), policy=POLICY).sent == 1
    finally:
        controller.stop()
    notice, delivery = the_notice(db)
    assert notice.status == "sent" and delivery.notified_at is not None
    ((sender, recipients, raw),) = mailbox.messages
    assert sender == "hall@example.gov.cn" and recipients == ["zhang.san@example.cn"]
    mail = message_from_bytes(raw)
    assert ready_case in str(make_header(decode_header(mail["Subject"])))
    assert mail["Message-ID"] == notice.provider_id
    assert "统一出件窗口" in mail.get_payload(decode=True).decode()


# ---------------------------------------------------------------- config


def test_notice_config_is_checked_at_start():
    good = {"sms": {"endpoint": "https://sms.example/", "access_key_id": "k",
                    "access_key_secret": "s", "sign_name": "市民中心",
                    "template_code": "SMS_1"},
            "email": {"host": "smtp.example", "sender": "hall@example", "port": 587,
                      "security": "starttls"},
            "max_attempts": 5}
    settings = settings_from_config(good)
    assert sorted(settings.channels) == ["email", "sms"] and settings.policy.max_attempts == 5
    with pytest.raises(ConfigError, match=r"\[notices.sms\]: unknown key\(s\) \['sign'\]"):
        settings_from_config({"sms": {**good["sms"], "sign": "x"}})
    with pytest.raises(ConfigError, match=r"\[notices.sms\]: missing \['template_code'\]"):
        settings_from_config({"sms": {k: v for k, v in good["sms"].items()
                                      if k != "template_code"}})
    with pytest.raises(ConfigError, match=r"\[notices.email\] security"):
        settings_from_config({"email": {**good["email"], "security": "tls"}})
    with pytest.raises(ConfigError, match=r"\[notices\] max_attempts"):
        settings_from_config({"max_attempts": 0})
    with pytest.raises(ConfigError, match=r"\[notices\]: unknown key\(s\) \['smss'\]"):
        settings_from_config({"smss": {}})


# ---------------------------------------------------------------- the manager and the citizen


def test_the_manager_sees_unsent_notices_and_sends_a_failed_one_again(tmp_path, gateway):
    import tomllib

    from hall_ops.config import parse_config
    from tests.support.web import hall_app, staff_client

    raw = tomllib.loads((ROOT / "config.toml").read_text())
    raw["notices"] = {"max_attempts": 1, "sms": {
        "endpoint": gateway.url, "access_key_id": KEY_ID, "access_key_secret": SECRET,
        "sign_name": SIGN, "template_code": TEMPLATE}}
    app = hall_app(parse_config(raw, ROOT), database_url=f"sqlite:///{tmp_path / 'h.db'}",
                   clock=lambda: NOW, always_open=True)
    hall = app.extensions["hall"]
    number = flat_case(hall.db, hall.config)
    decide(hall.db, number)
    manager = staff_client(app, "manager")
    # Ready once the job has looked: nothing is waiting for a notice before.
    assert manager.get("/api/v1/notices/unsent").json == {"channels": ["sms"], "unsent": []}

    gateway.down = True
    notify_ready(hall.db, hall.notices.channels, NOW, policy=hall.notices.policy)
    (row,) = manager.get("/api/v1/notices/unsent").json["unsent"]
    (notice,) = row["notices"]
    assert (notice["status"], notice["attempts"]) == ("failed", 1)  # max_attempts = 1
    assert "503" in notice["last_error"]
    page = manager.get("/manager/dashboard").get_data(as_text=True)
    assert "办结未通知的群众" in page and "retry-notice" in manager.get(
        "/static/js/dashboard.js").get_data(as_text=True)

    gateway.down = False
    assert manager.post(f"/api/v1/notices/{notice['id']}/retry").json == {
        "id": notice["id"], "status": "pending"}
    assert manager.post(f"/api/v1/notices/{notice['id']}/retry").status_code == 409
    notify_ready(hall.db, hall.notices.channels, NOW, policy=hall.notices.policy)
    assert manager.get("/api/v1/notices/unsent").json["unsent"] == []
    hall.db.dispose()


def test_the_ticket_page_says_whether_the_citizen_was_told(tmp_path, hall_config):
    from hall_web.app import create_app

    app = create_app(hall_config, database_url=f"sqlite:///{tmp_path / 'h.db'}",
                     secret_key="t", clock=lambda: NOW, always_open=True)
    hall = app.extensions["hall"]
    client = app.test_client()
    number = flat_case(hall.db, hall.config)
    decide(hall.db, number)
    notify_ready(hall.db, {}, NOW)  # no channel configured
    reply = client.post("/api/v1/deliveries/check-in",
                        json={"case_number": number, "phone_last4": "8000"})
    assert reply.json["case"]["notice"] == "not_notified"
    page = client.get(f"/t/{reply.json['token']}").get_data(as_text=True)
    assert "未通知" in page
    hall.db.dispose()


def test_an_applicant_may_give_an_e_mail_address_for_the_notice():
    from hall_ops.cases.intake import Applicant, validate_applicant
    from hall_ops.errors import InvalidInput

    person = Applicant("person", "张三", "330106198507201239", "13800138000",
                       " zhang.san@example.cn ")
    assert validate_applicant(person, NOW.date()).email == "zhang.san@example.cn"
    no_email = Applicant("person", "张三", "330106198507201239", "13800138000")
    assert validate_applicant(no_email, NOW.date()).email is None
    with pytest.raises(InvalidInput, match="e-mail"):
        validate_applicant(Applicant("person", "张三", "330106198507201239", "13800138000",
                                     "zhang.san"), NOW.date())
