"""Domain events: what happened, recorded inside a write transaction, published after it commits.

Domain functions call ``record(session, event)``; ``Database.write`` hands the
transaction's events to its subscribers only once the commit has succeeded
(the Cosmic Python "unit of work publishes events" pattern). So no view or job
has to remember to tell the screens, and nothing is pushed for a change that
was rolled back. Subscribers (``displays``) turn events into Socket.IO pushes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class QueueChanged:
    """Waiting counts, estimates or window states changed: screens need a fresh snapshot."""


@dataclass(frozen=True)
class TicketIssued:
    """A ticket was taken at a kiosk, on a phone or by an appointment's check-in."""

    service: str
    priority: str


@dataclass(frozen=True)
class TicketCalled:
    """A ticket was called or recalled; ``call`` is the call as every screen shows it."""

    call: dict[str, Any] = field(hash=False)
    waited_seconds: float | None = None
    """Take → this call (as the reports measure a wait); None for a recall."""


@dataclass(frozen=True)
class WindowChanged:
    """A window's state, clerk, services or ticket in hand changed."""

    number: int


@dataclass(frozen=True)
class MissedChanged:
    """A ticket was missed (过号) or a missed one rejoined: screens list the missed numbers."""


@dataclass(frozen=True)
class ResultReady:
    """A case's result became ready at the delivery window (its ticket pages refresh)."""

    case_number: str


@dataclass(frozen=True)
class CaseAccepted:
    """An intake record was created at a window; ``notice`` names it without personal data."""

    window: int
    notice: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class WorkloadChanged:
    """Window assignments were applied (``applied``) or auto-mode settings changed (``auto``)."""

    payload: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class CallRepeated:
    """A clerk re-announced a call (not a recall); ``call`` carries ``repeat``, its id."""

    call: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class CallReached:
    """A screen reported showing or speaking a call of window ``window``."""

    window: int


Event = (
    QueueChanged | TicketIssued | TicketCalled | WindowChanged | MissedChanged | ResultReady
    | CaseAccepted | WorkloadChanged | CallRepeated | CallReached
)


def record(session: Session, event: Event) -> None:
    """Remember ``event`` until the session's transaction commits (dropped on rollback)."""
    session.info.setdefault("events", []).append(event)
