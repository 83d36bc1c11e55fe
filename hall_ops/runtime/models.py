"""Terms of the scheduler's leaders: who ran the jobs, since when, last seen when.

One row per term, written by the leader: the heartbeat job (which runs in the
scheduler like every job) bumps ``beats`` and ``last_beat_at``, so an operator, and
the two-process test, can see that exactly one process runs the jobs at a time.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hall_ops.db import Base


class SchedulerTerm(Base):
    __tablename__ = "scheduler_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    """``host:pid`` of the leading process."""
    backend: Mapped[str] = mapped_column(String(16))
    """How it was elected: ``postgresql``, ``redis`` or ``local``."""
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_beat_at: Mapped[dt.datetime] = mapped_column(DateTime)
    beats: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    """Set when the leader stepped down; a killed leader's term just stops beating."""
