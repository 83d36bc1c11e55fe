"""Tables of the screens' reports: presence, per-call receipts, re-announcements.

Only what a screen device reported is stored: a receipt row exists because a screen said it
showed (``shown_at``) or spoke (``spoken_at``) a call; a time is the server's when it heard.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hall_ops.db import Base, make_append_only


class ScreenPresence(Base):
    """When a screen device was last heard from (join, heartbeat or receipt)."""

    __tablename__ = "screen_presence"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True,
                                           autoincrement=False)
    last_heard_at: Mapped[dt.datetime] = mapped_column(DateTime)


class CallAnnouncement(Base):
    """A clerk asked the screens to show and speak a call again (append-only audit)."""

    __tablename__ = "call_announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id"), index=True)
    window_number: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)


make_append_only(CallAnnouncement.__table__)  # type: ignore[arg-type]


class CallReceipt(Base):
    """One screen's report on one call (``announcement`` 0) or one re-announcement of it."""

    __tablename__ = "call_receipts"
    __table_args__ = (
        UniqueConstraint("call_id", "announcement", "device_id", name="uq_call_receipt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id"), index=True)
    announcement: Mapped[int] = mapped_column(Integer, default=0)
    """0: the call itself; otherwise the ``call_announcements.id`` it answers."""
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    shown_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    spoken_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
