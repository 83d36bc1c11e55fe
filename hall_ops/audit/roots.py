"""The daily root: one hash a hall can print, send upward or keep elsewhere, over every
chain's head.

``root = sha256(previous_root "\\n" day "\\n" heads)``, ``heads`` the compact JSON list of
``[stream, seq, hash]`` of every stream that moved since the previous root, sorted by
stream. Each root commits to the one before it, so the newest root stands for every
link ever written before it was taken; a root kept outside the database (the JSON
export) shows afterwards whether anything before it was changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.audit.chain import GENESIS
from hall_ops.audit.models import AuditHead, AuditRoot
from hall_ops.clock import iso_utc


def root_hash(previous: str, day: dt.date, heads: list[Any]) -> str:
    encoded = json.dumps(heads, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{previous}\n{day.isoformat()}\n{encoded}".encode()).hexdigest()


def take_root(session: Session, day: dt.date, now: dt.datetime) -> AuditRoot | None:
    """The root of ``day`` over the heads that moved since the last root; None if ``day``
    has one already. The heads are locked while they are read, so a link written meanwhile
    waits and is left for the next root."""
    if session.scalars(select(AuditRoot.id).where(AuditRoot.day == day)).first() is not None:
        return None
    last = session.scalars(select(AuditRoot).order_by(AuditRoot.id.desc()).limit(1)).first()
    previous = last.root if last is not None else GENESIS
    moved = session.scalars(
        select(AuditHead).where(AuditHead.rooted.is_(False)).order_by(AuditHead.stream)
        .with_for_update()
    ).all()
    heads = [[h.stream, h.seq, h.hash] for h in moved]
    for head in moved:
        head.rooted = True
    root = AuditRoot(day=day, computed_at=now, previous=previous, heads=heads,
                     root=root_hash(previous, day, heads))
    session.add(root)
    session.flush()
    return root


def root_view(root: AuditRoot) -> dict[str, Any]:
    return {
        "day": root.day.isoformat(),
        "computed_at": iso_utc(root.computed_at),
        "previous": root.previous,
        "root": root.root,
        "streams": len(root.heads),
    }


def recent_roots(session: Session, limit: int = 14) -> list[dict[str, Any]]:
    """Newest first: what the manager's report shows."""
    roots = session.scalars(select(AuditRoot).order_by(AuditRoot.id.desc()).limit(limit))
    return [root_view(r) for r in roots]


def export(session: Session, now: dt.datetime) -> dict[str, Any]:
    """Every root with the heads it covers: the file a hall keeps outside its database (or
    sends upward); ``hall audit verify --roots FILE`` compares the database with it."""
    roots = session.scalars(select(AuditRoot).order_by(AuditRoot.id)).all()
    return {
        "kind": "hall-ops audit roots",
        "exported_at": iso_utc(now),
        "hash": "sha256(previous \\n day \\n heads-json)",
        "roots": [{**root_view(r), "heads": r.heads} for r in roots],
    }
