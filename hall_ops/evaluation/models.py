"""Tables of the evaluation: ratings, rectifications of bad ones and the rectifications' trail.

A rating is of a visit (``ticket_id``) or of one case item (``case_item_id``), never both;
each is unique, so one rating per visit and per item whatever the channel. The staff it is
attributed to (window, clerk) and the department and item are copied when it is given, so
later changes of a window's staff do not move an old rating.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hall_ops.audit import chain
from hall_ops.audit.chain import ChainLink
from hall_ops.db import Base, make_append_only


class Rating(ChainLink, Base):
    """A citizen's rating (好差评): ``level`` 5 非常满意 … 1 非常不满意 (``ratings.LEVELS``)."""

    __tablename__ = "ratings"
    __table_args__ = (
        Index("ix_ratings_at", "at"),
        Index("ix_ratings_chain", "subject", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(8), default="visit")
    """``visit`` (a served ticket) or ``item`` (one item of a case)."""
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), unique=True,
                                                  nullable=True)
    case_item_id: Mapped[int | None] = mapped_column(ForeignKey("case_items.id"), unique=True,
                                                     nullable=True)
    case_number: Mapped[str | None] = mapped_column(String(24), nullable=True)
    window_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    clerk_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    service_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    item_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    department_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    level: Mapped[int] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Reason tags (``ratings.TAGS``) of a level below 基本满意 — or of any level if given."""
    comment: Mapped[str | None] = mapped_column(String(500), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    """``window_pad``, ``ticket_page``, ``kiosk`` or ``sms_link``."""
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    follow_up: Mapped[str | None] = mapped_column(String(500), nullable=True)
    """追评: what the citizen added later (once, within ``follow_up_days``)."""
    follow_up_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    excluded: Mapped[bool] = mapped_column(default=False)
    """An appeal against it was accepted: out of the staff's figures, kept in the record."""


RECTIFICATION_STATUSES = ("open", "closed")
APPEAL_STATUSES = ("none", "pending", "accepted", "rejected")


# One stream per subject (visits, items); 追评 and an appeal's exclusion change a rating
# after it is linked, and are recorded in their own right (rectification_events).
chain.register(Rating, stream_by=("subject",), mutable=("follow_up", "follow_up_at", "excluded"))


class Rectification(Base):
    """What a bad rating opens (差评整改): verified, rectified, called back, answered.

    Closed once the citizen was called back and answered and either the measures were
    recorded or an appeal against the rating was accepted. On time: closed on or before
    ``due_on``, the 15th working day of the hall's calendar after the rating.
    """

    __tablename__ = "rectifications"
    __table_args__ = (Index("ix_rectifications_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"), unique=True)
    owner: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """Login of the manager responsible: the department's, else the hall's."""
    department_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    window_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    clerk_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="open")
    measures: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    rectified_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    rectified_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    call_back_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    call_back_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    call_back_reached: Mapped[bool | None] = mapped_column(nullable=True)
    call_back_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    answer: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    appeal_status: Mapped[str] = mapped_column(String(8), default="none")
    appeal_reason: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    appeal_evidence: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    appealed_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    appealed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    appeal_decided_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    appeal_decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    appeal_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    """Hall-local day it closed: compared with ``due_on``."""


class RectificationEvent(ChainLink, Base):
    """Append-only trail of a rectification: every step with its actor (from the session)."""

    __tablename__ = "rectification_events"
    __table_args__ = (
        Index("ix_rectification_events_chain", "rectification_id", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """None for what the system did (opened by the citizen's rating)."""
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


make_append_only(RectificationEvent.__table__)  # type: ignore[arg-type]
chain.register(RectificationEvent, stream_by=("rectification_id",))
