"""Handing packages over to the archive office (移交): every package of a date range, each
checked first, with a handover list (移交清单) the office signs against."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import shutil
from pathlib import Path

from sqlalchemy import select

from hall_ops.archive.bag import manifest_digest, verify
from hall_ops.archive.models import ArchivePackage
from hall_ops.db import Database

HANDOVER_COLUMNS = ("case_number", "finished_on", "retention", "retain_until", "files", "bytes",
                    "manifest_sha256", "path")


class ExportError(RuntimeError):
    """The export was refused; nothing handed over is incomplete or damaged."""


def export_packages(db: Database, store: Path, out: Path, first: dt.date, last: dt.date
                    ) -> list[str]:
    """Copy the packages of cases finished ``first``…``last`` (hall-local days, inclusive)
    into ``out`` (a new or empty folder) with ``handover.csv`` and its digest; returns the
    case numbers. Every package is verified, and its manifest compared with the digest the
    hall recorded, before anything is copied: one damaged package refuses the export."""
    if last < first:
        raise ExportError(f"--to {last} is before --from {first}")
    if out.exists() and any(out.iterdir()):
        raise ExportError(f"{out} is not empty")
    with db.read() as s:
        rows = s.scalars(
            select(ArchivePackage)
            .where(ArchivePackage.finished_on >= first, ArchivePackage.finished_on <= last)
            .order_by(ArchivePackage.finished_on, ArchivePackage.case_number)
        ).all()
    for row in rows:
        package = store / row.path
        problems = verify(package)
        if not problems and manifest_digest(package) != row.manifest_sha256:
            problems = ["manifest-sha256.txt: differs from the one the hall recorded"]
        if problems:
            raise ExportError(f"{row.case_number}: " + "; ".join(problems))
    out.mkdir(parents=True, exist_ok=True)
    for row in rows:
        shutil.copytree(store / row.path, out / row.case_number)
    with (out / "handover.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HANDOVER_COLUMNS)
        for row in rows:
            writer.writerow([row.case_number, row.finished_on.isoformat(), row.retention,
                             row.retain_until.isoformat() if row.retain_until else "",
                             row.files, row.bytes, row.manifest_sha256, row.case_number])
    digest = hashlib.sha256((out / "handover.csv").read_bytes()).hexdigest()
    (out / "handover.csv.sha256").write_text(f"{digest}  handover.csv\n", encoding="utf-8")
    return [row.case_number for row in rows]
