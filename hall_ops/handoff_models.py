"""Tables of the hand-off: the outbox of messages to approval back-ends, and the built-in console."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall_ops.db import Base

MESSAGE_STATUSES = ("pending", "delivered", "dead")
CONSOLE_STATUSES = ("submitted", "claimed", "approved", "rejected", "supplement_requested")


class HandoffMessage(Base):
    """One intake record's hand-off to one department (transactional outbox row).

    Written in the same transaction as the intake record; the dispatcher
    marks it delivered only after the back-end accepted it, so a crash or an
    unreachable back-end delays a hand-off but never loses it.
    """

    __tablename__ = "handoff_messages"
    __table_args__ = (Index("ix_handoff_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    case_number: Mapped[str] = mapped_column(String(24), index=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    adapter: Mapped[str | None] = mapped_column(String(16), nullable=True)


class ConsoleCase(Base):
    """A hand-off received by the built-in back-office console (departments without a system)."""

    __tablename__ = "console_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("handoff_messages.id"), unique=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    case_number: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(24), default="submitted")
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    message: Mapped[HandoffMessage] = relationship()
