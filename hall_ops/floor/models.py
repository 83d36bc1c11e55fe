"""Tables of floor planning: the audit trail of window workload changes, auto-mode settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hall_ops.audit import chain
from hall_ops.audit.chain import ChainLink
from hall_ops.db import Base, make_append_only


class WorkloadChange(Base):
    """Audit trail of window workload changes and auto-mode settings (append-only)."""

    __tablename__ = "workload_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(32))
    """``manager`` (the dashboard) or ``auto`` (auto mode)."""
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    """assign, open, move (a proposal applied) or auto_mode (settings changed)."""
    window_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)


make_append_only(WorkloadChange.__table__)  # type: ignore[arg-type]


class WorkloadAuto(Base):
    """Auto-mode settings: one row (id 1), shared by every process of the hall."""

    __tablename__ = "workload_auto"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    enabled: Mapped[bool] = mapped_column(default=False)
    min_windows_per_service: Mapped[int] = mapped_column(Integer, default=1)
    min_interval_minutes: Mapped[float] = mapped_column(default=15.0)

WINDOW_CHANGES = ("assign", "open", "move")


class FloorChange(ChainLink, Base):
    """Audit trail of the admin page's changes to zones, services and windows (append-only,
    one hash chain): who (from the session), from where, what, and the values before and
    after. ``subject`` is ``zone:<code>``, ``service:<code>`` or ``window:<n>``."""

    __tablename__ = "floor_changes"
    __table_args__ = (Index("ix_floor_changes_chain", "chain_seq", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(48), index=True)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)


make_append_only(FloorChange.__table__)  # type: ignore[arg-type]
chain.register(FloorChange)
