"""Citizen notices ("your result is ready"): SMS through a signed gateway, and e-mail.

``notify_ready`` (a scheduler job) records newly ready cases, adds one ``notices`` row
per configured channel that the case has an address for, and sends the due ones the
way the hand-off outbox does: claim with a lease in a short transaction, send outside
any transaction, settle each in its own. A notice is ``sent`` — and its delivery's
``notified_at`` set — only when the gateway or SMTP server accepted it; a failure is
retried after an exponential backoff with full jitter and, after the last allowed try,
stays ``failed`` for the manager to see. With no channel configured nothing is sent
and the case says "not notified".

Channels (``[notices.sms]``, ``[notices.email]`` in config.toml):

- ``SmsGateway``: an HTTP API signed the way the mainland cloud SMS services sign
  (Alibaba Cloud's ``SendSms``, RPC signature 1.0): sorted, percent-encoded parameters,
  HMAC-SHA1 with the access key secret, a fresh nonce and timestamp per request;
  the message itself is the provider's approved template (``template_code``) filled
  with the case number, under the approved ``sign_name``.
- ``SmtpEmail``: smtplib over SSL or STARTTLS (or plain on a trusted relay), with login.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol
from urllib.parse import quote

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.cases.delivery import find_ready
from hall_ops.cases.handoff import RetryPolicy, policy_from_config
from hall_ops.cases.identity import mask_phone
from hall_ops.cases.models import Case, CitizenNotice, Delivery, HallTransfer
from hall_ops.clock import iso_utc
from hall_ops.config import ConfigError
from hall_ops.db import Database
from hall_ops.errors import Conflict, NotFound

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 1000
DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class OutgoingNotice:
    """What a channel gets: a snapshot, so sending touches no database session."""

    id: int
    recipient: str
    case_number: str
    text_zh: str
    text_en: str
    rating_link: str | None = None
    """The signed, expiring link to rate the case's items (``hall_ops.evaluation.ratings``)."""
    template: tuple[str, tuple[tuple[str, str], ...]] | None = None
    """Another approved SMS template and its parameters (silent calling's queue messages)."""
    collect_at: str | None = None
    """The hall of the deployment where the result is collected, when not this one."""
    tracking_number: str | None = None
    """By post: the mailing's tracking number."""


class NoticeError(Exception):
    """The channel did not accept the notice; it will be retried."""


class Notifier(Protocol):
    channel: str
    """``sms`` or ``email``: which address of the case it sends to."""

    def send(self, notice: OutgoingNotice) -> str:
        """Returns the provider's id of the accepted message; raises ``NoticeError``."""
        ...


# ---------------------------------------------------------------- SMS gateway


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the gateway signs it: unreserved characters stay, space is %20."""
    return quote(value, safe="-_.~")


def sms_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """Base64(HMAC-SHA1(secret + "&", METHOD&%2F&encode(sorted canonical query)))."""
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}"
                         for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class SmsGateway:
    endpoint: str
    access_key_id: str
    access_key_secret: str
    sign_name: str
    template_code: str
    region_id: str = "cn-hangzhou"
    timeout_seconds: float = 10.0
    queue_template_code: str | None = None
    """The approved template of silent calling (``${ticket}``, ``${ahead}``, ``${window}``);
    without it the hall offers no silent calling."""
    collect_template_code: str | None = None
    """The approved template of a result collected at another hall (``${case}``, ``${hall}``);
    without it such a notice goes with ``template_code``, which does not name the hall."""
    post_template_code: str | None = None
    """The approved template of a result sent by post (``${case}``, ``${tracking}``);
    without it such a notice goes with ``template_code``."""
    channel = "sms"

    def _template(self, notice: OutgoingNotice) -> tuple[str, dict[str, str]]:
        if notice.template:
            return notice.template[0], dict(notice.template[1])
        if notice.tracking_number and self.post_template_code:
            return self.post_template_code, {"case": notice.case_number,
                                             "tracking": notice.tracking_number}
        if notice.collect_at and self.collect_template_code:
            return self.collect_template_code, {"case": notice.case_number,
                                                "hall": notice.collect_at}
        # the approved template has ${case}, and ${link} when the hall sends rating links
        return self.template_code, {"case": notice.case_number,
                                    **({"link": notice.rating_link} if notice.rating_link else {})}

    def signed_params(self, notice: OutgoingNotice) -> dict[str, str]:
        template, values = self._template(notice)
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": notice.recipient,
            "RegionId": self.region_id,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": template,
            "TemplateParam": json.dumps(values, ensure_ascii=False),
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
            "OutId": str(notice.id),
        }
        params["Signature"] = sms_signature(self.access_key_secret, "POST", params)
        return params

    def send(self, notice: OutgoingNotice) -> str:
        try:
            reply = requests.post(self.endpoint, data=self.signed_params(notice),
                                  timeout=self.timeout_seconds)
        except requests.RequestException as exc:
            raise NoticeError(f"SMS gateway unreachable: {exc}") from exc
        try:
            answer = reply.json()
        except ValueError:
            answer = {}
        if reply.status_code != 200 or answer.get("Code") != "OK":
            raise NoticeError(f"SMS gateway answered {reply.status_code}: "
                              f"{answer.get('Code', '')} {answer.get('Message', reply.text[:200])}")
        return str(answer.get("BizId") or answer.get("RequestId") or "")


# ---------------------------------------------------------------- e-mail

SECURITY = ("ssl", "starttls", "none")


@dataclass(frozen=True)
class SmtpEmail:
    host: str
    sender: str
    port: int = 465
    security: str = "ssl"
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    """A private CA's certificate (PEM) to trust instead of the system's."""
    timeout_seconds: float = 20.0
    channel = "email"

    def message(self, notice: OutgoingNotice) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = notice.recipient
        message["Subject"] = f"办件 {notice.case_number} 已办结 / Case {notice.case_number} decided"
        message["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[-1])
        message.set_content(f"{notice.text_zh}\n\n{notice.text_en}\n")
        return message

    def send(self, notice: OutgoingNotice) -> str:
        message = self.message(notice)
        context = ssl.create_default_context(cafile=self.ca_file)
        try:
            smtp: smtplib.SMTP
            if self.security == "ssl":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_seconds,
                                        context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds)
            with smtp:
                if self.security == "starttls":
                    smtp.starttls(context=context)
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise NoticeError(f"SMTP {self.host}:{self.port}: {exc}") from exc
        if refused:
            raise NoticeError(f"SMTP refused {sorted(refused)}")
        return str(message["Message-ID"])


# ---------------------------------------------------------------- config


@dataclass(frozen=True)
class NoticeSettings:
    channels: dict[str, Notifier]
    policy: RetryPolicy
    interval_seconds: float = 30.0


def _section(raw: Any, where: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(raw) - required - optional)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}")
    missing = sorted(required - set(raw))
    if missing:
        raise ConfigError(f"{where}: missing {missing}")
    for key, value in raw.items():
        number = key in ("port", "timeout_seconds")
        if number and (isinstance(value, bool) or not isinstance(value, int | float)
                       or value <= 0):
            raise ConfigError(f"{where} {key}: must be a positive number, got {value!r}")
        if not number and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{where} {key}: must be a non-empty string")
    return raw


def settings_from_config(section: Any) -> NoticeSettings:
    """``[notices]``, checked at start: a wrong key or value stops the start, named."""
    if not isinstance(section, dict):
        raise ConfigError("[notices] must be a table")
    policy_keys = {"max_attempts", "backoff_base_seconds", "backoff_cap_seconds"}
    unknown = sorted(set(section) - policy_keys - {"interval_seconds", "sms", "email"})
    if unknown:
        raise ConfigError(f"[notices]: unknown key(s) {unknown}")
    try:
        policy = policy_from_config({k: section[k] for k in policy_keys if k in section})
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("[approval]", "[notices]")) from exc
    interval = section.get("interval_seconds", 30)
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        raise ConfigError(f"[notices] interval_seconds: must be positive, got {interval!r}")
    channels: dict[str, Notifier] = {}
    if "sms" in section:
        sms = _section(section["sms"], "[notices.sms]",
                       {"endpoint", "access_key_id", "access_key_secret", "sign_name",
                        "template_code"}, {"region_id", "timeout_seconds", "queue_template_code",
                                           "collect_template_code", "post_template_code"})
        channels["sms"] = SmsGateway(**sms)
    if "email" in section:
        email = _section(section["email"], "[notices.email]", {"host", "sender"},
                         {"port", "security", "username", "password", "ca_file",
                          "timeout_seconds"})
        if email.get("security", "ssl") not in SECURITY:
            raise ConfigError(f"[notices.email] security: one of {SECURITY}")
        channels["email"] = SmtpEmail(**email)
    return NoticeSettings(channels, policy, float(interval))


# ---------------------------------------------------------------- sending


LinkFor = Callable[[str, dt.datetime], str | None]
"""Case number, now → the rating link of its notice, or None (no ``[evaluation] public_url``)."""


def notice_texts(
    case_number: str, rating_link: str | None = None, *,
    collect_at: tuple[str, str] | None = None, tracking_number: str | None = None,
) -> tuple[str, str]:
    """``collect_at``: (name_zh, name_en) of the other hall where the result waits;
    ``tracking_number``: the result was mailed."""
    if tracking_number:
        zh = f"您的办件 {case_number} 已办结，结果已邮寄，邮件号 {tracking_number}。"
        en = f"Your case {case_number} is decided; the result was mailed, tracking number " \
             f"{tracking_number}."
    elif collect_at:
        zh = f"您的办件 {case_number} 已办结，请凭办件号到{collect_at[0]}统一出件窗口领取结果。"
        en = f"Your case {case_number} is decided; collect the result at the delivery window " \
             f"of {collect_at[1]}."
    else:
        zh = f"您的办件 {case_number} 已办结，请凭办件号到统一出件窗口领取结果。"
        en = f"Your case {case_number} is decided; collect the result at the delivery window."
    if rating_link:
        zh += f"欢迎评价：{rating_link}"
        en += f" Please rate our service: {rating_link}"
    return zh, en


def _recipient(case: Case, channel: str) -> str | None:
    return case.applicant_phone if channel == "sms" else case.applicant_email


def _record_notices(session: Session, channels: Mapping[str, Notifier], now: dt.datetime) -> None:
    """One notice per channel and unnotified delivery that has an address for it (none
    once the result was handed over: the citizen has come). A result by post is announced
    once mailed, one for another hall once that hall holds it."""
    for delivery in find_ready(session, now):
        if delivery.handed_over_at is not None:
            continue
        case = session.get(Case, delivery.case_id)
        assert case is not None
        if case.delivery_mode == "post" and delivery.mailed_at is None:
            continue
        if case.delivery_mode == "other_hall" and _landed(session, case) is None:
            continue
        have = set(session.scalars(select(CitizenNotice.channel)
                                   .where(CitizenNotice.delivery_id == delivery.id)))
        for channel in channels:
            recipient = _recipient(case, channel)
            if channel not in have and recipient:
                session.add(CitizenNotice(delivery_id=delivery.id, channel=channel,
                                          recipient=recipient, status="pending", attempts=0,
                                          next_attempt_at=now, created_at=now))


def _landed(session: Session, case: Case) -> HallTransfer | None:
    """The transfer of a result to another hall, once that hall holds it."""
    return session.scalars(select(HallTransfer).where(
        HallTransfer.case_id == case.id, HallTransfer.status == "landed")).first()


def _claim(db: Database, channels: Mapping[str, Notifier], now: dt.datetime,
           policy: RetryPolicy, token: str, batch: int,
           link_for: LinkFor | None) -> list[tuple[str, OutgoingNotice]]:
    with db.write() as session:
        _record_notices(session, channels, now)
        session.flush()
        rows = session.scalars(
            select(CitizenNotice)
            .where(CitizenNotice.status == "pending", CitizenNotice.next_attempt_at <= now,
                   CitizenNotice.channel.in_(list(channels)))
            .order_by(CitizenNotice.next_attempt_at, CitizenNotice.id)
            .limit(batch).with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for row in rows:
            row.attempts += 1
            row.lease_token = token
            row.next_attempt_at = now + dt.timedelta(seconds=policy.lease_seconds)
            delivery = session.get(Delivery, row.delivery_id)
            assert delivery is not None
            case = session.get(Case, delivery.case_id)
            assert case is not None
            link = link_for(case.number, now) if link_for else None
            transfer = _landed(session, case) if case.delivery_mode == "other_hall" else None
            collect_at = (transfer.to_hall_name_zh or transfer.to_hall,
                          transfer.to_hall_name_en or transfer.to_hall) if transfer else None
            tracking = delivery.tracking_number if case.delivery_mode == "post" else None
            zh, en = notice_texts(case.number, link, collect_at=collect_at,
                                  tracking_number=tracking)
            claimed.append((row.channel, OutgoingNotice(
                row.id, row.recipient, case.number, zh, en, link,
                collect_at=collect_at[0] if collect_at else None, tracking_number=tracking)))
        return claimed


@dataclass
class NoticeReport:
    sent: int = 0
    failed: int = 0
    """Failed this try; retried later."""
    given_up: int = 0


def _settle(db: Database, notice: OutgoingNotice, token: str, provider_id: str | None,
            error: str | None, at: dt.datetime, policy: RetryPolicy, rng: random.Random,
            report: NoticeReport) -> None:
    with db.write() as session:
        row = session.get(CitizenNotice, notice.id, with_for_update=True)
        if row is None or row.status == "sent":
            return
        if error is None:  # accepted by the provider: true whoever holds the lease now
            row.status, row.sent_at, row.provider_id = "sent", at, provider_id
            row.lease_token, row.last_error = None, None
            delivery = session.get(Delivery, row.delivery_id)
            if delivery is not None and delivery.notified_at is None:
                delivery.notified_at = at
            report.sent += 1
            return
        if row.lease_token != token:
            return
        row.last_error = error[:MAX_ERROR_LENGTH]
        row.lease_token = None
        if row.attempts >= policy.max_attempts:
            row.status = "failed"
            report.given_up += 1
            log.error("notice %s (%s) failed after %d tries: %s", notice.id, row.channel,
                      row.attempts, error)
        else:
            row.next_attempt_at = at + dt.timedelta(seconds=policy.delay(row.attempts, rng))
            report.failed += 1
            log.warning("notice %s (%s) try %d failed: %s", notice.id, row.channel,
                        row.attempts, error)


def notify_ready(
    db: Database, channels: Mapping[str, Notifier], now: dt.datetime, *,
    policy: RetryPolicy = DEFAULT_POLICY, rng: random.Random | None = None, batch: int = 50,
    link_for: LinkFor | None = None,
) -> NoticeReport:
    """The scheduler job: record ready cases, send due notices, settle each (see above)."""
    rng = rng or random.Random()
    token = uuid.uuid4().hex
    report = NoticeReport()
    claimed = _claim(db, channels, now, policy, token, batch, link_for)
    started = time.monotonic()
    for channel, notice in claimed:
        provider_id: str | None = None
        error: str | None = None
        try:
            provider_id = channels[channel].send(notice)
        except NoticeError as exc:
            error = str(exc)
        except Exception as exc:
            log.exception("notice %s: channel %s failed", notice.id, channel)
            error = f"{type(exc).__name__}: {exc}"
        at = now + dt.timedelta(seconds=time.monotonic() - started)
        _settle(db, notice, token, provider_id, error, at, policy, rng, report)
    return report


def retry_now(db: Database, notice_id: int, now: dt.datetime) -> CitizenNotice:
    """A manager sends a failed notice again, due now, with a fresh count of tries."""
    with db.write() as session:
        row = session.get(CitizenNotice, notice_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no notice {notice_id}", code="unknown_notice")
        if row.status != "failed":
            raise Conflict(f"notice {notice_id} is {row.status}; only a failed one is retried",
                           code="not_failed")
        row.status, row.attempts, row.next_attempt_at = "pending", 0, now
        return row


def unsent(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """For the manager: ready results whose citizen has not been told, oldest first —
    notices still trying, notices given up, and results with no channel to send by."""
    rows = session.execute(
        select(Delivery, Case).join(Case, Case.id == Delivery.case_id)
        .where(Delivery.notified_at.is_(None), Delivery.handed_over_at.is_(None))
        .order_by(Delivery.ready_at, Delivery.id).limit(limit)
    ).all()
    out = []
    for delivery, case in rows:
        notices = session.scalars(select(CitizenNotice).where(
            CitizenNotice.delivery_id == delivery.id).order_by(CitizenNotice.id)).all()
        out.append({
            "case_number": case.number,
            "phone": mask_phone(case.applicant_phone),
            "ready_at": iso_utc(delivery.ready_at),
            "notices": [{
                "id": n.id, "channel": n.channel, "status": n.status, "attempts": n.attempts,
                "last_error": n.last_error,
                "next_attempt_at": iso_utc(n.next_attempt_at) if n.status == "pending" else None,
            } for n in notices],
        })
    return out
