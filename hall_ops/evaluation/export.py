"""Ratings and rectifications up to the provincial evaluation platform (好差评 上报).

Each report is a message of the hand-off outbox (``hall_ops.cases.handoff``), written in
the transaction of the rating or step it reports, addressed to the pseudo-department
``PLATFORM``; the outbox's dispatcher delivers it through the signed ``WebhookBackend`` of
``[evaluation.platform]`` with retries and backoff, so an outage of the platform delays
reports but loses none. Every message has its own idempotency key, sent with every try
(``evaluation:rating:<id>``, ``…:follow-up``, ``evaluation:rectification:<id>:<step>``),
so the platform counts each report once however often it arrives. No personal data goes
up: levels, tags, comments and where the service was given.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from hall_ops.cases.approval import Backends, WebhookBackend
from hall_ops.cases.handoff import enqueue_handoff
from hall_ops.clock import iso_utc
from hall_ops.config_file import PlatformSection
from hall_ops.evaluation.models import Rating, Rectification
from hall_ops.evaluation.ratings import level_code

PLATFORM = "_evaluation"
"""The outbox's department of platform reports (catalogue codes never start with ``_``)."""
DEFAULT_TIMEOUT_S = 10.0


def with_platform(backends: Backends, platform: PlatformSection | None) -> Backends:
    """The hand-off back-ends plus the platform's webhook for ``PLATFORM`` messages."""
    if platform is None:
        return backends
    hook = WebhookBackend(platform.url, platform.secret,
                          platform.timeout_seconds or DEFAULT_TIMEOUT_S)
    return dataclasses.replace(backends, by_department={**backends.by_department, PLATFORM: hook})


def rating_payload(rating: Rating) -> dict[str, Any]:
    return {
        "kind": "rating", "rating_id": rating.id, "subject": rating.subject,
        "level": rating.level, "level_code": level_code(rating.level),
        "tags": list(rating.tags or []), "comment": rating.comment, "channel": rating.channel,
        "at": iso_utc(rating.at), "window": rating.window_number, "clerk": rating.clerk_id,
        "service": rating.service_code, "item": rating.item_code,
        "department": rating.department_code, "case_number": rating.case_number,
        "follow_up": rating.follow_up, "follow_up_at": iso_utc(rating.follow_up_at),
    }


def _enqueue(session: Session, key: str, subject: str, payload: dict[str, Any],
             now: dt.datetime) -> None:
    enqueue_handoff(session, case_number=subject, department=PLATFORM, payload=payload,
                    idempotency_key=key, now=now)


def rating_created(session: Session, rating: Rating, now: dt.datetime) -> None:
    _enqueue(session, f"evaluation:rating:{rating.id}", f"rating:{rating.id}",
             rating_payload(rating), now)


def rating_followed_up(session: Session, rating: Rating, now: dt.datetime) -> None:
    _enqueue(session, f"evaluation:rating:{rating.id}:follow-up", f"rating:{rating.id}",
             {**rating_payload(rating), "kind": "follow_up"}, now)


def rectification_changed(session: Session, row: Rectification, step: str,
                          now: dt.datetime) -> None:
    """``step``: ``closed``, ``appeal-accepted`` or ``appeal-rejected``."""
    payload = {
        "kind": "rectification", "step": step, "rectification_id": row.id,
        "rating_id": row.rating_id, "department": row.department_code,
        "window": row.window_number, "clerk": row.clerk_id,
        "opened_at": iso_utc(row.opened_at), "due_on": row.due_on.isoformat(),
        "status": row.status, "closed_on": row.closed_on.isoformat() if row.closed_on else None,
        "on_time": row.closed_on <= row.due_on if row.closed_on else None,
        "measures": row.measures, "called_back": row.call_back_at is not None,
        "reached": row.call_back_reached, "answer": row.answer,
        "appeal": row.appeal_status,
    }
    _enqueue(session, f"evaluation:rectification:{row.id}:{step}", f"rectification:{row.id}",
             payload, now)
