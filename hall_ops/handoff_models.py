"""Tables of the hand-off: the outbox of messages to approval back-ends, and the built-in console.

``handoff_messages`` is a transactional outbox: a message is written in the
same transaction as the intake record it announces, so the record and its
hand-off exist together or not at all; the dispatcher delivers it afterwards.

``console_cases`` is the back-office console of departments without a system
of their own: delivering a message to the console creates one row here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hall_ops.db import Base

MESSAGE_STATUSES = ("pending", "delivered", "dead")
CONSOLE_STATUSES = ("submitted", "claimed", "approved", "rejected", "supplement_requested")


class HandoffMessage(Base):
    """One intake record's hand-off to one department (transactional outbox row).

    The dispatcher marks it delivered only after the back-end accepted it, so a
    crash or an unreachable back-end delays a hand-off but never loses it.
    While a dispatcher run delivers it, ``lease_token`` names that run and
    ``next_attempt_at`` is the end of its lease. ``attempts`` counts claims, so
    a message whose delivery keeps killing the dispatcher still ends ``dead``.
    """

    __tablename__ = "handoff_messages"
    __table_args__ = (Index("ix_handoff_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    """Sent with every try: the back-end counts a message once however often it arrives."""
    case_number: Mapped[str] = mapped_column(String(32), index=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    adapter: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """Back-end of the last try: ``console`` or ``webhook``."""


class ConsoleCase(Base):
    """A department's share of an intake record in the built-in back-office console.

    Keyed by the hand-off's idempotency key (``handoff_key``), so a redelivered
    message never makes a second case; the payload is copied, so the console does not
    depend on how long the outbox keeps its rows.
    """

    __tablename__ = "console_cases"
    __table_args__ = (Index("ix_console_queue", "department", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_key: Mapped[str] = mapped_column(String(200), unique=True)
    department: Mapped[str] = mapped_column(String(32))
    case_number: Mapped[str] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(24), default="submitted")
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    """Why it was rejected, or which supplement was asked for (the latest)."""
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
