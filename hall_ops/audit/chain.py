"""Hash chains over the audit tables: each row carries ``chain_seq`` and ``chain_hash``.

A chained table is a model with the :class:`ChainLink` columns, registered once with
:func:`register`, naming the columns that split it into streams (a ticket's events are
one stream, the security log is one stream)::

    class TicketEvent(ChainLink, Base): ...
    chain.register(TicketEvent, stream_by=("ticket_id",))

Every new row of a registered table is linked in the transaction that writes it (a
``before_flush`` hook on every session), so a row and its link exist together or not at
all. The link::

    chain_hash = sha256(previous_hash "\\n" stream "\\n" chain_seq "\\n" canonical_row)

``canonical_row`` is the row's columns except its generated id and the two chain columns,
as compact JSON with sorted keys and null values left out (so a nullable column added
later leaves old links valid); times as ISO 8601 (naive UTC), dates as ISO dates. The
first row of a stream follows ``GENESIS``. The head of each stream (``audit_heads``) moves
with each row in one upsert that holds the head's row lock to the end of the transaction
(PostgreSQL's ``ON CONFLICT DO UPDATE`` waits for a concurrent writer of the same stream
and then extends its link; SQLite writers are serialised by ``BEGIN IMMEDIATE``), so a
stream never forks; the unique index on (stream, ``chain_seq``) would refuse a fork
anyway. Streams are per entity where the table has one, so two kiosks issuing tickets
never wait for each other's link.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    event,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.pool import Pool

from hall_ops.audit.models import AuditHead

GENESIS = "0" * 64
"""What the first row of every stream follows."""


class ChainLink:
    """Mixin of a chained row: its place in its stream and its link hash."""

    chain_seq: Mapped[int] = mapped_column(Integer)
    chain_hash: Mapped[str] = mapped_column(String(64))


def _encoder(column_type: Any) -> Callable[[Any], Any]:
    """Values as the database gives them back, so the writer and the checker hash alike."""
    if isinstance(column_type, DateTime | Date):
        return lambda v: v.isoformat()
    if isinstance(column_type, Boolean):
        return bool
    if isinstance(column_type, Integer):
        return int
    if isinstance(column_type, String):
        return str
    return lambda v: v


@dataclass(frozen=True)
class Chained:
    """A registered table: which columns are hashed, which name the stream."""

    model: type
    table: Table
    stream_by: tuple[str, ...]
    columns: tuple[tuple[str, str, Callable[[Any], Any], Any], ...] = field(repr=False)
    """(column name, attribute name, encoder, column default) of each hashed column."""

    def stream_of(self, values: Mapping[str, Any]) -> str:
        if not self.stream_by:
            return self.table.name
        return ":".join([self.table.name, *(str(values[c]) for c in self.stream_by)])

    def canonical(self, values: Mapping[str, Any]) -> str:
        content = {
            name: encode(values[name])
            for name, _, encode, _ in self.columns
            if values.get(name) is not None
        }
        return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


REGISTRY: dict[str, Chained] = {}
"""Chained tables by name: what is linked on write and walked by ``verify``."""

_BY_MODEL: dict[type, Chained] = {}


def register(model: type, *, stream_by: Iterable[str] = (), mutable: Iterable[str] = ()) -> None:
    """Chain ``model`` (a :class:`ChainLink` model), one stream per value of ``stream_by``.

    ``mutable``: columns a later, legitimate step may change (a rating's 追评, an appeal's
    exclusion — each recorded in a chained table of its own); they are left out of the link,
    so the rest of the row stays provable."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    mapper = model.__mapper__  # type: ignore[attr-defined]
    generated = {table.autoincrement_column, table.c.chain_seq, table.c.chain_hash}
    unhashed = set(mutable)
    columns = tuple(
        (c.name, mapper.get_property_by_column(c).key, _encoder(c.type), c.default)
        for c in table.columns if c not in generated and c.name not in unhashed
    )
    stream_by = tuple(stream_by)
    unknown = set(stream_by) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name}: no column(s) {sorted(unknown)}")
    chained = Chained(model, table, stream_by, columns)
    REGISTRY[table.name] = chained
    _BY_MODEL[model] = chained


def link_hash(previous: str, stream: str, seq: int, canonical: str) -> str:
    return hashlib.sha256(f"{previous}\n{stream}\n{seq}\n{canonical}".encode()).hexdigest()


def _row_values(chained: Chained, obj: Any) -> dict[str, Any]:
    """The row as it will be inserted: Python-side defaults applied now, so what is hashed
    is what is stored. Keys are hashed as set on the row: a chained row gets its foreign
    keys set directly, not filled in later by a relationship during the flush."""
    values = {}
    for name, key, _, default in chained.columns:
        value = getattr(obj, key)
        if value is None and default is not None and not default.is_sequence:
            value = default.arg(None) if default.is_callable else default.arg
            setattr(obj, key, value)
        values[name] = value
    missing = [c for c in chained.stream_by if values[c] is None]
    if missing:
        raise ValueError(f"{chained.table.name}: set {', '.join(missing)} before adding the "
                         "row (it names the row's chain)")
    return values


_ADVANCE = {
    # One statement per row: creates the head or, holding its row lock (ON CONFLICT DO
    # UPDATE waits for a concurrent writer and then sees its head), moves it one link on.
    # The database computes the link exactly as ``link_hash`` does; ``first`` is the link
    # of a new stream's first row, computed here. Sent as the driver's own SQL: it runs
    # for every audit row, and SQLAlchemy's statement handling would cost more than it.
    "postgresql": (
        "INSERT INTO audit_heads AS h (stream, seq, hash, rooted) "
        "VALUES (%(stream)s, 1, %(first)s, false) ON CONFLICT (stream) DO UPDATE SET "
        "seq = h.seq + 1, rooted = false, hash = encode(sha256(convert_to("
        "h.hash || chr(10) || h.stream || chr(10) || CAST(h.seq + 1 AS text) || chr(10) "
        "|| CAST(%(canonical)s AS text), 'UTF8')), 'hex') RETURNING h.seq, h.hash"
    ),
    "sqlite": (
        "INSERT INTO audit_heads (stream, seq, hash, rooted) "
        "VALUES (:stream, 1, :first, 0) ON CONFLICT (stream) DO UPDATE SET "
        "seq = seq + 1, rooted = 0, hash = hall_sha256("
        "hash || char(10) || stream || char(10) || CAST(seq + 1 AS TEXT) || char(10) "
        "|| :canonical) RETURNING seq, hash"
    ),
}


def _sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@event.listens_for(Pool, "connect")
def _sqlite_sha256(dbapi_connection: Any, _record: Any) -> None:
    """SQLite has no SHA-256: give every SQLite connection the one ``link_hash`` uses."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("hall_sha256", 1, _sha256_hex, deterministic=True)


def _link(
    conn: Connection, stream: str, rows: list[tuple[Chained, Any, dict[str, Any]]]
) -> None:
    """Append ``rows`` to ``stream``: each moves the stream's head in one statement, under
    the head's row lock (held to the end of the transaction)."""
    advance = _ADVANCE[conn.dialect.name]
    for chained, obj, values in rows:
        canonical = chained.canonical(values)
        seq, link = conn.exec_driver_sql(advance, {
            "stream": stream, "canonical": canonical,
            "first": link_hash(GENESIS, stream, 1, canonical),
        }).one()
        obj.chain_seq, obj.chain_hash = seq, link


@event.listens_for(Session, "before_flush")
def _chain_new_rows(session: Session, _context: Any, _instances: Any) -> None:
    """Link every new row of a chained table, in the order the rows were added."""
    if not _BY_MODEL:
        return
    pending = [obj for obj in session.new if type(obj) in _BY_MODEL]
    if not pending:
        return
    pending.sort(key=lambda obj: instance_state(obj).insert_order or 0)
    streams: dict[str, list[tuple[Chained, Any, dict[str, Any]]]] = {}
    for obj in pending:
        chained = _BY_MODEL[type(obj)]
        values = _row_values(chained, obj)
        streams.setdefault(chained.stream_of(values), []).append((chained, obj, values))
    conn = session.connection()
    for stream in sorted(streams):  # one lock order for every writer: no deadlock
        _link(conn, stream, streams[stream])


# ---------------------------------------------------------------- reading back


def walk(conn: Connection, chained: Chained) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every row of a chained table as stored, stream by stream, in chain order."""
    table = chained.table
    order = [table.c[c] for c in chained.stream_by] + [table.c.chain_seq, table.c.id]
    for row in conn.execute(select(table).order_by(*order).execution_options(yield_per=2000)):
        values = dict(row._mapping)
        yield chained.stream_of(values), values


def heads(conn: Connection) -> dict[str, tuple[int, str]]:
    return {s: (q, h) for s, q, h in conn.execute(
        select(AuditHead.stream, AuditHead.seq, AuditHead.hash))}


def link_rows(conn: Connection, chained: Chained) -> int:
    """Chain the rows of a table that has none yet, in the order they were written (the
    upgrade of an existing hall); returns how many were linked. The table is read as the
    database has it, so a later revision's columns are not asked of an older one."""
    table = Table(chained.table.name, MetaData(), autoload_with=conn)
    order = [table.c.id] if table.c.get("id") is not None else list(table.primary_key)
    tails: dict[str, tuple[int, str]] = {}
    count = 0
    for row in conn.execute(select(table).order_by(*order)).all():
        values = dict(row._mapping)
        stream = chained.stream_of(values)
        seq, previous = tails.get(stream, (0, GENESIS))
        seq += 1
        previous = link_hash(previous, stream, seq, chained.canonical(values))
        conn.execute(
            table.update().where(*[c == values[c.name] for c in table.primary_key])
            .values(chain_seq=seq, chain_hash=previous)
        )
        tails[stream] = (seq, previous)
        count += 1
    head_table: Table = AuditHead.__table__  # type: ignore[assignment]
    for stream, (seq, previous) in tails.items():
        conn.execute(head_table.insert().values(stream=stream, seq=seq, hash=previous,
                                                rooted=False))
    return count

