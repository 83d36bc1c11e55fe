"""Tables of the tamper-evident record: the head of each chain and the daily roots."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hall_ops.db import Base


class AuditHead(Base):
    """The last link of one chain (stream): its ``seq`` and ``hash``.

    Writers lock this row (``FOR UPDATE`` on PostgreSQL; SQLite's write lock) before they
    extend the stream, so two processes writing the same stream take turns and never fork
    it. ``rooted`` is false until the next daily root has taken this head in.
    """

    __tablename__ = "audit_heads"
    __table_args__ = {"sqlite_with_rowid": False}  # one b-tree per write: the stream's key

    stream: Mapped[str] = mapped_column(String(96), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    rooted: Mapped[bool] = mapped_column(Boolean, default=False)
    """Not indexed: read once a day, written with every link."""


class AuditRoot(Base):
    """One day's root hash: over the previous root and every head that moved since it.

    ``heads`` is that list (``[stream, seq, hash]``, sorted), kept so a later check can
    name a stream cut short after the root was taken. Roots chain like the rows do: the
    newest root commits to every head of every stream there ever was.
    """

    __tablename__ = "audit_roots"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, unique=True)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    previous: Mapped[str] = mapped_column(String(64))
    heads: Mapped[list[Any]] = mapped_column(JSON)
    root: Mapped[str] = mapped_column(String(64))
