"""Drafts of application forms: typed by the citizen, pulled and accepted by the clerk.

A citizen fills an item's form at the kiosk or on the phone page of their ticket before
coming; it waits as that ticket's draft (one per ticket, saved again to change it). The
values are personal data: stored encrypted whole (``EncryptedJSON``, as hand-off payloads
are), shown back only to the holder of the ticket's token, deleted by them at will, and
deleted by the scheduler once expired. The clerk at the intake window pulls the draft by
ticket number or case number, checks it, corrects a slip if need be, and accepts: the
intake record is made from the draft's values, and the accepted form is kept with the case
(``case_forms``) naming the clerk who accepted it and every field they changed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from hall_ops.cases.destination import HERE, Destination
from hall_ops.cases.intake import Applicant, IntakeRules, create_intake
from hall_ops.cases.models import Case, CaseVisit, Delivery
from hall_ops.clock import hall_day, iso_utc
from hall_ops.db import Base
from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.forms.spec import FilledForm, validate_form
from hall_ops.privacy import EncryptedJSON
from hall_ops.queue import ACTIVE
from hall_ops.queue.models import Ticket
from hall_ops.queue.tickets import ticket_by_token

SOURCES = ("kiosk", "phone")
CASE_NUMBER = re.compile(r"SQ[0-9]{8}-[0-9]{4}")
TICKET_NUMBER = re.compile(r"[A-Z][0-9]{1,6}")
DEFAULT_LIFETIME = dt.timedelta(hours=24)


class FormDraft(Base):
    """A form a citizen filled for their ticket, waiting for the window."""

    __tablename__ = "form_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    item_codes: Mapped[list[str]] = mapped_column(JSON)
    values: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("form_drafts.values"))
    source: Mapped[str] = mapped_column(String(8))
    """``kiosk`` (a kiosk device saved it) or ``phone``."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class CaseForm(Base):
    """The application form accepted into a case: the audit of its acceptance too."""

    __tablename__ = "case_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    item_codes: Mapped[list[str]] = mapped_column(JSON)
    values: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("case_forms.values"))
    source: Mapped[str] = mapped_column(String(8))
    filled_at: Mapped[dt.datetime] = mapped_column(DateTime)
    """When the citizen last saved the draft."""
    accepted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    accepted_by: Mapped[str] = mapped_column(String(64))
    """The clerk logged in at the window (from the session, never from a request body)."""
    corrected: Mapped[list[str]] = mapped_column(JSON)
    """Paths of the fields the clerk changed before accepting (empty: none re-typed)."""
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)


# ---------------------------------------------------------------- the citizen


def _open_ticket(session: Session, token: str) -> Ticket:
    ticket = ticket_by_token(session, token)
    if ticket.status not in ("waiting", *ACTIVE):
        raise Conflict(f"ticket {ticket.number} is {ticket.status}: no form for it now",
                       code="ticket_not_open")
    return ticket


def save_draft(
    session: Session, token: str, data: Mapping[str, Any], *, source: str, now: dt.datetime,
    rules: IntakeRules, lifetime: dt.timedelta = DEFAULT_LIFETIME,
) -> FormDraft:
    """Check the whole form and keep it as the ticket's draft (replacing an earlier one);
    it expires ``lifetime`` after this save."""
    if source not in SOURCES:
        raise InvalidInput(f"source is one of {SOURCES}", code="invalid_field", field="source")
    ticket = _open_ticket(session, token)
    form = validate_form(session, data, hall_day(now, rules.timezone))
    draft = session.scalars(select(FormDraft).where(FormDraft.ticket_id == ticket.id)).first()
    if draft is None:
        draft = FormDraft(ticket_id=ticket.id, created_at=now)
        session.add(draft)
    draft.item_codes, draft.values = form.items, form.values()
    draft.source, draft.updated_at, draft.expires_at = source, now, now + lifetime
    session.flush()
    return draft


def draft_of_ticket(session: Session, token: str, now: dt.datetime) -> FormDraft | None:
    """The ticket's draft, unless it has expired (the cleanup may not have run yet)."""
    ticket = ticket_by_token(session, token)
    draft = session.scalars(select(FormDraft).where(FormDraft.ticket_id == ticket.id)).first()
    return draft if draft is not None and draft.expires_at > now else None


def delete_draft(session: Session, token: str) -> bool:
    """The citizen takes back what they typed; True if there was a draft."""
    ticket = ticket_by_token(session, token)
    gone = session.execute(delete(FormDraft).where(FormDraft.ticket_id == ticket.id))
    return bool(gone.rowcount)  # type: ignore[attr-defined]


def delete_expired(session: Session, now: dt.datetime) -> int:
    """Drafts past their time, or of a ticket that is over (served, missed, cancelled, ended
    with its day) are deleted, not kept: personal data no longer needed."""
    over = select(Ticket.id).where(Ticket.status.not_in(("waiting", *ACTIVE)))
    gone = session.execute(delete(FormDraft).where(
        (FormDraft.expires_at <= now) | FormDraft.ticket_id.in_(over)))
    return int(gone.rowcount)  # type: ignore[attr-defined]


def draft_view(session: Session, draft: FormDraft) -> dict[str, Any]:
    ticket = session.get(Ticket, draft.ticket_id)
    return {
        "id": draft.id,
        "ticket": ticket.number if ticket else None,
        "items": list(draft.item_codes),
        "applicant": draft.values["applicant"],
        "fields": draft.values["fields"],
        "source": draft.source,
        "saved_at": iso_utc(draft.updated_at),
        "expires_at": iso_utc(draft.expires_at),
    }


# ---------------------------------------------------------------- the clerk


def find_drafts(
    session: Session, ref: str, now: dt.datetime, rules: IntakeRules
) -> list[FormDraft]:
    """Drafts the clerk can pull: by today's ticket number (``B003``), or by a case number
    (``SQ20261130-0001``: drafts of any ticket of that case — intake, supplement, delivery —
    for an applicant coming back)."""
    ref = ref.strip().upper()
    if CASE_NUMBER.fullmatch(ref):
        case = session.scalars(select(Case).where(Case.number == ref)).first()
        if case is None:
            raise NotFound(f"no case {ref}", code="unknown_case")
        tickets = {case.ticket_id, *session.scalars(
            select(CaseVisit.ticket_id).where(CaseVisit.case_id == case.id))}
        delivery_ticket = session.scalars(
            select(Delivery.ticket_id).where(Delivery.case_id == case.id)).first()
        if delivery_ticket is not None:
            tickets.add(delivery_ticket)
    elif TICKET_NUMBER.fullmatch(ref):
        today = hall_day(now, rules.timezone)
        tickets = set(session.scalars(
            select(Ticket.id).where(Ticket.number == ref, Ticket.day == today)))
    else:
        raise InvalidInput("a ticket number (B003) or a case number (SQ20261130-0001)",
                           code="invalid_reference", field="ref")
    return list(session.scalars(
        select(FormDraft).where(FormDraft.ticket_id.in_(tickets), FormDraft.expires_at > now)
        .order_by(FormDraft.id)
    ))


def changed_paths(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Paths whose value differs (a field added or dropped counts as changed)."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def accept_draft(
    session: Session,
    rules: IntakeRules,
    draft_id: int,
    *,
    checked: Mapping[str, Any],
    ticket_id: int,
    window_number: int,
    clerk_id: str,
    received: Iterable[str] = (),
    e_licences: Iterable[str] = (),
    licences: Mapping[str, str] | None = None,
    consent: bool = False,
    destination: Destination = HERE,
    now: dt.datetime,
) -> tuple[Case, list[str]]:
    """The clerk accepts a draft, as checked on their screen (``checked``: the same shape as
    the draft, validated again): the intake record is made from it, the form is kept with the
    case, the draft is gone. Returns the case and the fields the clerk changed."""
    draft = session.get(FormDraft, draft_id, with_for_update=True)
    if draft is None or draft.expires_at <= now:
        raise NotFound("the draft has expired or was deleted", code="unknown_draft")
    form: FilledForm = validate_form(session, checked, hall_day(now, rules.timezone))
    original = FilledForm(list(draft.item_codes), draft.values["applicant"],
                          draft.values["fields"])
    corrected = changed_paths(original.paths(), form.paths())
    if form.items != original.items:
        corrected.insert(0, "items")
    applicant = form.applicant
    case = create_intake(
        session, rules, ticket_id=ticket_id, window_number=window_number, clerk_id=clerk_id,
        applicant=Applicant(applicant["kind"], applicant["name"], applicant["id_number"],
                            applicant["phone"], applicant.get("email")),
        item_codes=form.items, received=received, e_licences=e_licences, licences=licences,
        consent=consent, destination=destination, now=now,
    )
    session.add(CaseForm(
        case_id=case.id, item_codes=form.items, values=form.values(), source=draft.source,
        filled_at=draft.updated_at, accepted_at=now, accepted_by=clerk_id, corrected=corrected,
        origin=session.info.get("origin"),
    ))
    session.delete(draft)
    session.flush()
    return case, corrected


def form_of_case(session: Session, case_id: int) -> CaseForm | None:
    return session.scalars(select(CaseForm).where(CaseForm.case_id == case_id)).first()
