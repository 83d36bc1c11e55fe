"""Admin: the hand-off outbox."""

from __future__ import annotations

from typing import Annotated, Literal

from hall_web.fields import coded
from hall_web.schemas.base import Answer, Moment, Query

MessageStatus = Literal["pending", "delivered", "dead"]


class OutboxQuery(Query):
    status: Annotated[MessageStatus, coded("invalid_status", "pending, delivered or dead")] \
        | None = None


class OutboxMessage(Answer):
    """A hand-off without its payload: that carries the applicant's full identity."""

    id: int
    idempotency_key: str
    case_number: str
    department: str
    items: list[str | None]
    status: MessageStatus
    attempts: int
    adapter: str | None
    last_error: str | None
    created_at: Moment | None
    next_attempt_at: Moment | None
    delivered_at: Moment | None


class Outbox(Answer):
    status: MessageStatus | None
    messages: list[OutboxMessage]
    counts: dict[MessageStatus, int]
