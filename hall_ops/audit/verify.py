"""Check every chain, the heads and the daily roots; name the first row changed or removed.

Per stream the walk recomputes each link from the stored row and the link before it:

- ``changed``: the row's content (or its hash) is not what was linked;
- ``removed``: ``chain_seq`` jumps, so the rows before this one are gone;
- ``cut``: the head says the stream is longer than its rows (rows removed at its end);
- ``no head`` / ``no rows``: a stream without its head, or a head without a row;
- ``root``: a daily root does not hash to itself or does not follow the one before;
- ``rewritten``: a link differs from what a daily root recorded for it (the chain was
  rebuilt after an edit), or a link a root recorded is gone.

Only the first finding of each stream is reported: what follows a broken link cannot
be trusted anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from hall_ops.audit.chain import GENESIS, REGISTRY, Chained, heads, link_hash, walk
from hall_ops.audit.models import AuditRoot
from hall_ops.audit.roots import root_hash
from hall_ops.db import Database


@dataclass(frozen=True)
class Finding:
    problem: str
    table: str
    stream: str
    seq: int | None = None
    row_id: int | None = None
    detail: str = ""

    def text(self) -> str:
        where = f"{self.table} id={self.row_id}" if self.row_id is not None else self.table
        seq = f" seq={self.seq}" if self.seq is not None else ""
        return f"{self.problem}: {where}{seq} (stream {self.stream}){': ' if self.detail else ''}" \
               f"{self.detail}"


@dataclass
class Report:
    rows: int
    streams: int
    roots: int
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not self.findings


def _roots(conn: Connection, findings: list[Finding]) -> tuple[int, dict[tuple[str, int], str]]:
    """Check the chain of roots; what each recorded, by (stream, seq)."""
    rooted: dict[tuple[str, int], str] = {}
    previous = GENESIS
    count = 0
    for root in conn.execute(select(AuditRoot.__table__).order_by(AuditRoot.id)).all():
        count += 1
        day = root.day.isoformat()
        if root.previous != previous or root_hash(root.previous, root.day, root.heads) != root.root:
            findings.append(Finding("root", "audit_roots", f"root:{day}", row_id=root.id,
                                    detail=f"the root of {day} was changed"))
        previous = root.root
        for stream, seq, link in root.heads:
            rooted[(stream, seq)] = link
    return count, rooted


def _stream_findings(
    chained: Chained, rows: Iterable[tuple[str, dict[str, Any]]],
    head_of: Mapping[str, tuple[int, str]], rooted: dict[tuple[str, int], str],
    findings: list[Finding], seen: set[str],
) -> int:
    table = chained.table.name
    broken: set[str] = set()
    current: str | None = None
    seq, previous = 0, GENESIS
    count = 0

    def close(stream: str) -> None:
        if stream in broken:
            return
        head = head_of.get(stream)
        if head is None:
            findings.append(Finding("no head", table, stream, seq,
                                    detail="the stream's head was removed"))
        elif head != (seq, previous):
            findings.append(Finding("cut", table, stream, seq + 1,
                                    detail=f"the head says {head[0]} rows, {seq} are left"))

    for stream, row in rows:
        count += 1
        if stream != current:
            if current is not None:
                close(current)
            current, seq, previous = stream, 0, GENESIS
            seen.add(stream)
        if stream in broken:
            continue
        row_seq, row_id = row["chain_seq"], row.get("id")
        if row_seq != seq + 1:
            broken.add(stream)
            findings.append(Finding("removed", table, stream, seq + 1, row_id,
                                    _missing(seq + 1, row_seq - 1)))
            continue
        expected = link_hash(previous, stream, row_seq, chained.canonical(row))
        if expected != row["chain_hash"]:
            broken.add(stream)
            findings.append(Finding("changed", table, stream, row_seq, row_id,
                                    "its content or link is not what was written"))
            continue
        recorded = rooted.pop((stream, row_seq), None)
        if recorded is not None and recorded != row["chain_hash"]:
            broken.add(stream)
            findings.append(Finding("rewritten", table, stream, row_seq, row_id,
                                    "differs from the link a daily root recorded"))
            continue
        seq, previous = row_seq, row["chain_hash"]
    if current is not None:
        close(current)
    return count


def _missing(first: int, last: int) -> str:
    rows = f"row {first} is" if first == last else f"rows {first}…{last} are"
    return f"{rows} missing before this one"


def verify(conn: Connection) -> Report:
    """Walk every registered chain (``hall_ops.audit.chain.REGISTRY``)."""
    findings: list[Finding] = []
    root_count, rooted = _roots(conn, findings)
    head_of = heads(conn)
    seen: set[str] = set()
    rows = 0
    for chained in REGISTRY.values():
        rows += _stream_findings(chained, walk(conn, chained), head_of, rooted, findings, seen)
    for stream in sorted(set(head_of) - seen):
        table = stream.split(":", 1)[0]
        if table in REGISTRY:
            findings.append(Finding("no rows", table, stream, 1,
                                    detail=f"the head says {head_of[stream][0]} rows, none left"))
    reported = {f.stream for f in findings}
    for stream, seq in sorted(rooted):  # recorded by a root, never met in the walk
        table = stream.split(":", 1)[0]
        if table in REGISTRY and stream not in reported:
            reported.add(stream)
            findings.append(Finding("rewritten", table, stream, seq,
                                    detail="a daily root recorded this link; it is gone"))
    return Report(rows, len(seen), root_count, findings)


def verify_database(db: Database, exported: Mapping[str, Any] | None = None) -> Report:
    """``verify`` in one snapshot of the database (writers go on meanwhile), and compare
    with roots exported earlier if given."""
    engine = db.engine.execution_options(
        **({"isolation_level": "REPEATABLE READ"} if db.dialect == "postgresql"
           else {"sqlite_begin": "DEFERRED"}))
    with engine.connect() as conn, conn.begin():
        report = verify(conn)
        if exported is not None:
            report.findings += compare_export(conn, exported)
    return report


def compare_export(conn: Connection, exported: Mapping[str, Any]) -> list[Finding]:
    """Roots kept outside (``roots.export``) against the database's: a root rewritten in
    the database, with every chain rebuilt to fit, still differs from the copy."""
    stored = {r.day.isoformat(): r.root for r in conn.execute(
        select(AuditRoot.day, AuditRoot.root))}
    findings = []
    for root in exported.get("roots", []):
        if stored.get(root["day"]) != root["root"]:
            findings.append(Finding("root", "audit_roots", f"root:{root['day']}",
                                    detail="differs from the exported copy"
                                    if root["day"] in stored else "missing; the copy has it"))
    return findings
