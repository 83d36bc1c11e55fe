"""The archive's register: which finished case has its package, where, and its digest."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hall_ops.db import Base


class ArchivePackage(Base):
    """A case's archive package, recorded once its files are complete on disk.

    ``manifest_sha256`` is the digest of the package's payload manifest: with it the hall
    can tell a package rewritten whole (manifest included) from the one it wrote.
    """

    __tablename__ = "archive_packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    case_number: Mapped[str] = mapped_column(String(24), unique=True)
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_on: Mapped[dt.date] = mapped_column(Date, index=True)
    """Hall-local day the case was finished: export ranges and retention count from it."""
    archived_at: Mapped[dt.datetime] = mapped_column(DateTime)
    path: Mapped[str] = mapped_column(String(300))
    """Relative to the archive store (``2026/SQ20261130-0001``)."""
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    files: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    retention: Mapped[str] = mapped_column(String(16))
    retain_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    """Last day of the retention period; None for ``permanent``."""
