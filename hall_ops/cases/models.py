"""Tables of cases: the intake record (受理记录), its hand-off outbox, the console, delivery.

Importing this module registers these tables and the catalogue's
(``service_items``, ``item_materials``) on ``Base.metadata``.

One case holds the items of several departments accepted together at one
window. A material several items need is one ``case_materials`` row linked
to each of them (``case_item_materials``), so the applicant hands it in once
and every department fetches the same stored copy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from hall_ops.audit import chain
from hall_ops.audit.chain import ChainLink
from hall_ops.cases.catalogue import ItemMaterial, ServiceItem
from hall_ops.db import Base, make_append_only
from hall_ops.privacy import EncryptedJSON, EncryptedString, blind_index

__all__ = [
    "Case",
    "CaseCounter",
    "CaseItem",
    "CaseItemEvent",
    "CaseItemExtension",
    "CardEvent",
    "CaseMaterial",
    "CaseVisit",
    "DeliveryChoice",
    "HallTransfer",
    "ID_NUMBER_CONTEXT",
    "IncomingResult",
    "ItemMaterial",
    "SeenCallback",
    "ServiceItem",
    "case_item_materials",
]


class CaseCounter(Base):
    """Last case number issued per hall day; bumped by an atomic upsert."""

    __tablename__ = "case_counters"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


case_item_materials = Table(
    "case_item_materials",
    Base.metadata,
    Column("case_item_id", ForeignKey("case_items.id"), primary_key=True),
    Column("case_material_id", ForeignKey("case_materials.id"), primary_key=True),
)
"""Which stored material each item of a case uses."""


ID_NUMBER_CONTEXT = "cases.applicant_id_number"
"""Binds the encrypted ID numbers and their keyed hashes to this column (``hall_ops.privacy``)."""
ADDRESS_CONTEXT = "cases.delivery_address"
DELIVERY_MODES = ("hall", "other_hall", "post")


class Case(Base):
    """An intake record (受理单), e.g. SQ20261125-0001.

    The applicant's ID number is stored encrypted (PIPL: sensitive personal
    information) and found through ``applicant_id_hash``, its keyed hash.
    """

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    """Hall-local day of acceptance: the day the time limits count from."""
    accepted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    window_number: Mapped[int] = mapped_column(ForeignKey("windows.number"))
    clerk_id: Mapped[str] = mapped_column(ForeignKey("clerks.id"))
    applicant_kind: Mapped[str] = mapped_column(String(16))
    """``person`` (resident ID) or ``organisation`` (unified social credit code)."""
    applicant_name: Mapped[str] = mapped_column(String(128))
    applicant_id_number: Mapped[str] = mapped_column(EncryptedString(ID_NUMBER_CONTEXT))
    applicant_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    applicant_phone: Mapped[str] = mapped_column(String(16))
    applicant_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    """Optional: where an e-mail notice goes when the hall sends e-mail (``[notices.email]``)."""
    windows_visited: Mapped[int] = mapped_column(Integer, default=1)
    """Window visits the applicant made for this case: the "trips" managers are judged on."""
    materials_handed_in: Mapped[int] = mapped_column(Integer, default=0)
    """Paper documents handed in (shared ones once; e-licences not counted)."""
    delivery_mode: Mapped[str] = mapped_column(String(16), default="hall", server_default="hall")
    """Where the result goes (``DELIVERY_MODES``): collected here, collected at another hall
    of the deployment (``delivery_hall``), or by post (``delivery_address``). Its history,
    with who changed it, is ``case_delivery_choices``."""
    delivery_hall: Mapped[str | None] = mapped_column(String(32), nullable=True)
    delivery_address: Mapped[dict[str, Any] | None] = mapped_column(
        EncryptedJSON(ADDRESS_CONTEXT), nullable=True)
    """{address, postcode} by post: personal data, encrypted at rest like the ID number."""

    items: Mapped[list[CaseItem]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseItem.id"
    )
    materials: Mapped[list[CaseMaterial]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseMaterial.id"
    )

    @validates("applicant_id_number")
    def _index_id_number(self, _key: str, value: str) -> str:
        self.applicant_id_hash = blind_index(value, ID_NUMBER_CONTEXT)
        return value


class CaseItem(Base):
    """One item of a case, approved by its department in parallel with the others.

    Department and time limit are copied from the catalogue at intake: a
    later catalogue edit must not move the deadline of an accepted case.
    """

    __tablename__ = "case_items"
    __table_args__ = (UniqueConstraint("case_id", "item_code", name="uq_case_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("service_items.code"), index=True)
    department_code: Mapped[str] = mapped_column(String(32), index=True)
    department_name_zh: Mapped[str] = mapped_column(String(64))
    time_limit_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24), default="submitted", index=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    """When approved or rejected: the clock stops there."""

    case: Mapped[Case] = relationship(back_populates="items")
    item: Mapped[ServiceItem] = relationship()
    materials: Mapped[list[CaseMaterial]] = relationship(
        secondary=case_item_materials, back_populates="items", order_by="CaseMaterial.id"
    )
    events: Mapped[list[CaseItemEvent]] = relationship(order_by="CaseItemEvent.id")
    card: Mapped[str] = mapped_column(String(8), default="green", server_default="green")
    """The supervision card as last recorded by the deadline job: ``green``, ``yellow``,
    ``red``, or ``cleared`` (a yellow or red card whose item was finished)."""
    extensions: Mapped[list[CaseItemExtension]] = relationship(
        order_by="CaseItemExtension.id"
    )
    card_events: Mapped[list[CardEvent]] = relationship(order_by="CardEvent.id")


class CaseMaterial(Base):
    """A material of a case, stored once however many of its items need it.

    Received when ``received_at`` is set; otherwise a gap (容缺) due by ``due_on``.
    """

    __tablename__ = "case_materials"
    __table_args__ = (UniqueConstraint("case_id", "name_zh", name="uq_case_material_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200))
    key: Mapped[bool] = mapped_column(Boolean)
    """Key for at least one item of the case."""
    copies: Mapped[int] = mapped_column(Integer, default=1)
    e_licence_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    """Every item needing it accepts the e-licence in its place."""
    source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """``paper`` or ``e_licence`` once received."""
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    """Hall-local last day to supply a gap."""

    case: Mapped[Case] = relationship(back_populates="materials")
    items: Mapped[list[CaseItem]] = relationship(
        secondary=case_item_materials, back_populates="materials", order_by="CaseItem.id"
    )

    @property
    def missing(self) -> bool:
        return self.received_at is None


class CaseItemEvent(ChainLink, Base):
    """Append-only status history of a case item; supplement pauses are read back from it.
    Chained per item (``hall_ops.audit.chain``)."""

    __tablename__ = "case_item_events"
    __table_args__ = (
        Index("ix_case_item_events_chain", "case_item_id", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_item_id: Mapped[int] = mapped_column(ForeignKey("case_items.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    from_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    to_status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)


make_append_only(CaseItemEvent.__table__)  # type: ignore[arg-type]
chain.register(CaseItemEvent, stream_by=("case_item_id",))


CARD_COLOURS = ("green", "yellow", "red", "cleared")


class CaseItemExtension(ChainLink, Base):
    """A time-limit extension (延期) granted by an approver or a manager, with its reason;
    the item's limit is its catalogue limit plus every extension's days."""

    __tablename__ = "case_item_extensions"
    __table_args__ = (
        Index("ix_case_item_extensions_chain", "case_item_id", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_item_id: Mapped[int] = mapped_column(ForeignKey("case_items.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    days: Mapped[int] = mapped_column(Integer)
    """Working days added to the limit."""
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)


make_append_only(CaseItemExtension.__table__)  # type: ignore[arg-type]
chain.register(CaseItemExtension, stream_by=("case_item_id",))


class CardEvent(ChainLink, Base):
    """A supervision card changing colour (电子监察): recorded by the deadline job only.

    ``cause`` is ``time`` (the limit ran on), ``extended`` (an extension cleared or
    lowered it: ``actor`` granted it) or ``finished`` (the item was decided: ``actor``
    decided it); ``at`` is when that happened.
    """

    __tablename__ = "case_item_card_events"
    __table_args__ = (
        Index("ix_case_item_card_events_chain", "case_item_id", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_item_id: Mapped[int] = mapped_column(ForeignKey("case_items.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    from_colour: Mapped[str] = mapped_column(String(8))
    to_colour: Mapped[str] = mapped_column(String(8))
    cause: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True)


make_append_only(CardEvent.__table__)  # type: ignore[arg-type]
chain.register(CardEvent, stream_by=("case_item_id",))


class CaseVisit(Base):
    """A window visit for a case: one per ticket served, so a return trip is counted once."""

    __tablename__ = "case_visits"
    __table_args__ = (UniqueConstraint("case_id", "ticket_id", name="uq_case_visit_ticket"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    window_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    purpose: Mapped[str] = mapped_column(String(16))
    """``intake`` or ``supplement``."""


# ---------------------------------------------------------------- hand-off

"""``handoff_messages`` is a transactional outbox: a message is written in the same
transaction as the intake record it announces, so the record and its hand-off exist
together or not at all; the dispatcher delivers it afterwards. ``console_cases`` is the
back-office console of departments without a system of their own."""

MESSAGE_STATUSES = ("pending", "delivered", "dead")
CONSOLE_STATUSES = ("submitted", "claimed", "approved", "rejected", "supplement_requested")


class HandoffMessage(Base):
    """One intake record's hand-off to one department (transactional outbox row).

    The dispatcher marks it delivered only after the back-end accepted it, so a
    crash or an unreachable back-end delays a hand-off but never loses it.
    While a dispatcher run delivers it, ``lease_token`` names that run and
    ``next_attempt_at`` is the end of its lease. ``attempts`` counts claims, so
    a message whose delivery keeps killing the dispatcher still ends ``dead``.
    """

    __tablename__ = "handoff_messages"
    __table_args__ = (Index("ix_handoff_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    """Sent with every try: the back-end counts a message once however often it arrives."""
    case_number: Mapped[str] = mapped_column(String(32), index=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("handoff_messages.payload"))
    """The applicant's whole identity is in it: encrypted at rest like ``cases``."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    adapter: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """Back-end of the last try: ``console`` or ``webhook``."""


class ConsoleCase(Base):
    """A department's share of an intake record in the built-in back-office console.

    Keyed by the hand-off's idempotency key (``handoff_key``), so a redelivered
    message never makes a second case; the payload is copied, so the console does not
    depend on how long the outbox keeps its rows.
    """

    __tablename__ = "console_cases"
    __table_args__ = (Index("ix_console_queue", "department", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_key: Mapped[str] = mapped_column(String(200), unique=True)
    department: Mapped[str] = mapped_column(String(32))
    case_number: Mapped[str] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("console_cases.payload"))
    status: Mapped[str] = mapped_column(String(24), default="submitted")
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    """Why it was rejected, or which supplement was asked for (the latest)."""
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class SeenCallback(Base):
    """Signatures of approval callbacks already accepted, kept while they could be replayed.

    A signed callback is valid for its timestamp's tolerance window; within it, a
    byte-identical copy carries the same signature and is refused. After
    ``expires_at`` the timestamp check refuses it anyway, and the row may go.
    """

    __tablename__ = "seen_callbacks"

    signature: Mapped[str] = mapped_column(String(80), primary_key=True)
    department: Mapped[str] = mapped_column(String(32))
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


# ---------------------------------------------------------------- delivery


class Delivery(Base):
    """A ready result. ``notified_at``: when the first channel confirmed a notice
    (``notices``); empty means the citizen has not been told, whatever was tried."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    ready_at: Mapped[dt.datetime] = mapped_column(DateTime)
    notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    handed_over_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    window_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The window it was handed over at (at ``delivered_hall``'s floor if that is set)."""
    clerk_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """Who handed it over, or who recorded the mailing."""
    delivered_hall: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The hall of the deployment where it was handed over, when not this one."""
    mailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    """By post: when the mailing was recorded (the items are delivered then)."""
    tracking_number: Mapped[str | None] = mapped_column(String(32), nullable=True)


NOTICE_STATUSES = ("pending", "sent", "failed")


class CitizenNotice(Base):
    """One "your result is ready" notice of a delivery through one channel (sms, email).

    ``sent`` only once the gateway or SMTP server accepted it (``provider_id`` is its
    message id); a failure is retried with backoff, and after the last allowed try the
    notice is ``failed`` and waits on the manager's dashboard. While a run sends it,
    ``lease_token`` names that run and ``next_attempt_at`` is the end of its lease.
    """

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("delivery_id", "channel", name="uq_notice_channel"),
        Index("ix_notices_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    provider_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class DeliveryChoice(Base):
    """Append-only history of where a case's result goes: the choice made at intake and each
    change the citizen asked for at a window, with the clerk who recorded it."""

    __tablename__ = "case_delivery_choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    mode: Mapped[str] = mapped_column(String(16))
    hall_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    address: Mapped[dict[str, Any] | None] = mapped_column(
        EncryptedJSON("case_delivery_choices.address"), nullable=True)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)


make_append_only(DeliveryChoice.__table__)  # type: ignore[arg-type]


TRANSFER_STATUSES = ("pending", "landed", "cancelled")


class HallTransfer(Base):
    """Outbox of a ready result to be collected at another hall (``hall_ops.cases.crosshall``).

    Written with the ``deliveries`` row; ``landed`` only after the receiving hall committed
    its ``incoming_results`` row, which is unique per (origin hall, case), so a retry after
    a failure between the two commits lands nothing twice.
    """

    __tablename__ = "hall_transfers"
    __table_args__ = (Index("ix_hall_transfers_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    to_hall: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    landed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    to_hall_name_zh: Mapped[str | None] = mapped_column(String(64), nullable=True)
    to_hall_name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The collecting hall's names as the directory gave them when it landed: the notice
    names that hall."""


class IncomingResult(Base):
    """At the collecting hall: a result of a case accepted at another hall, waiting here.

    The payload (applicant, items, outstanding gaps) is a snapshot from the origin hall,
    encrypted at rest. Handed over at one of this hall's windows; ``reported_at`` is when the
    origin hall's case recorded that (retried until it did).
    """

    __tablename__ = "incoming_results"
    __table_args__ = (UniqueConstraint("from_hall", "case_number", name="uq_incoming_case"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_hall: Mapped[str] = mapped_column(String(32))
    case_number: Mapped[str] = mapped_column(String(24), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("incoming_results.payload"))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    handed_over_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    window_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    clerk_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    """The hand-over's note (gaps confirmed, with the clerk's reason), copied to the origin."""
    reported_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    report_attempts: Mapped[int] = mapped_column(Integer, default=0)
    report_next_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    report_error: Mapped[str | None] = mapped_column(Text, nullable=True)
