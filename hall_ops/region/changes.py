"""The audit trail of the halls admin (``hall_ops.region.admin``): every hall added,
renamed, disabled, enabled or moved in the hierarchy, by whom (from the session), from
where, with the values before and after. Append-only and hash-chained (one stream), in the
deployment's database beside the ``halls`` table it records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hall_ops.audit import chain
from hall_ops.audit.chain import ChainLink
from hall_ops.db import Base, make_append_only

KINDS = ("added", "renamed", "disabled", "enabled", "moved")


class HallChange(ChainLink, Base):
    __tablename__ = "hall_changes"
    __table_args__ = (Index("ix_hall_changes_chain", "chain_seq", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    """One of ``KINDS``."""
    hall: Mapped[str] = mapped_column(String(32), index=True)
    """The code of the node changed (a plain code: the record outlives any row)."""
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)


make_append_only(HallChange.__table__)  # type: ignore[arg-type]
chain.register(HallChange)
