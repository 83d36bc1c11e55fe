"""Tables of staff accounts, role grants, devices and the security log.

Every grant, window and device carries the hall it belongs to, so one
installation serving several halls (issue 14) only adds rows, not columns.
Secrets are stored only as hashes: passwords and PINs with argon2, device
tokens with SHA-256 (they are random 256-bit values, so a slow KDF adds nothing).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall_ops.audit import chain
from hall_ops.audit.chain import ChainLink
from hall_ops.db import Base, make_append_only

ROLES = ("clerk", "approver", "manager", "admin")
"""``approver`` is granted per department; every grant is per hall."""

DEVICE_KINDS = ("screen", "kiosk", "pad")


class StaffMember(Base):
    """A person who works in the hall. ``id`` is the login (clerk ids such as ``c01`` included)."""

    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """None: no password login (a clerk who only uses the window PIN)."""
    pin_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    """Part of every session's user id: bumping it ends all of this person's sessions."""
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    pin_locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    """The PIN has its own lockout: guessing a clerk's PIN does not lock their password."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    grants: Mapped[list[RoleGrant]] = relationship(
        cascade="all, delete-orphan", order_by="RoleGrant.id", back_populates="staff"
    )
    windows: Mapped[list[StaffWindow]] = relationship(
        cascade="all, delete-orphan", order_by="StaffWindow.window_number"
    )


class RoleGrant(Base):
    """One role of one person in one hall; ``department`` is set for approvers only."""

    __tablename__ = "staff_roles"
    __table_args__ = (
        UniqueConstraint("staff_id", "role", "hall", "department", name="uq_staff_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    hall: Mapped[str] = mapped_column(String(32))
    department: Mapped[str] = mapped_column(String(32), default="")
    """Empty for every role but ``approver`` (not NULL, so the unique constraint holds)."""
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    granted_by: Mapped[str | None] = mapped_column(String(32), nullable=True)

    staff: Mapped[StaffMember] = relationship(back_populates="grants")


class StaffWindow(Base):
    """A window a clerk may sit at (log in with the PIN)."""

    __tablename__ = "staff_windows"

    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    hall: Mapped[str] = mapped_column(String(32), primary_key=True)
    window_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class Device(Base):
    """A screen, kiosk or rating pad, known by a token an admin issued to it.

    ``scope`` names what it shows: ``hall``, ``zone:<code>`` or ``window:<n>``
    (the Socket.IO room names).
    """

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    hall: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(48))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime)
    issued_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_seen_from: Mapped[str | None] = mapped_column(String(120), nullable=True)


class SecurityEvent(ChainLink, Base):
    """Append-only security log: logins, lockouts, staff and device changes, unmasked reads.

    ``subject`` is what the event is about: a login, ``device:<id>`` or ``case:<number>``.
    One chain for the whole log (``hall_ops.audit.chain``).
    """

    __tablename__ = "security_events"
    __table_args__ = (
        Index("ix_security_events_kind_at", "kind", "at"),
        Index("ix_security_events_chain", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(32), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


make_append_only(SecurityEvent.__table__)  # type: ignore[arg-type]
chain.register(SecurityEvent)
