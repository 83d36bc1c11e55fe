"""The queue as every audience sees it: tickets, calls, windows, the snapshot. Shared by the
HTTP answers and the Socket.IO pushes (``call``, ``queue``, ``window``, ``snapshot``)."""

from __future__ import annotations

from typing import Literal

from hall_web.schemas.base import Answer, Minutes, Moment
from hall_web.schemas.evaluation import RatingView
from hall_web.schemas.licences import HolderLicences

TicketState = Literal["remote", "waiting", "called", "serving", "done", "no_show", "cancelled"]
WindowState = Literal["closed", "idle", "calling", "serving", "paused"]
Priority = Literal["normal", "elderly", "disabled", "appointment"]


class Ticket(Answer):
    """A ticket as the queue knows it (``ticket`` of a window view)."""

    id: int
    number: str
    service: str
    service_name_zh: str
    service_name_en: str
    priority: Priority
    status: TicketState
    window: int | None
    target_window: int | None
    recalls: int
    taken_at: Moment
    called_at: Moment | None
    started_at: Moment | None
    token: str
    priority_reason: Literal["age"] | None = None
    """Why the hall gave the priority: ``age`` (绿色通道, from the resident ID's birth date)."""
    resident_id: str | None = None
    """The resident ID it was taken with, masked (3****************9)."""
    check_in_by: Moment | None = None
    """A remote ticket: check in at the hall by then, or it lapses."""
    people_ahead: int
    """A remote ticket not checked in: those waiting now, as it would find them."""
    estimated_wait_minutes: Minutes | None
    """None while no window serving it is open: there is no honest figure."""


class CaseItemState(Answer):
    code: str
    status: str


class CaseDelivery(Answer):
    case_number: str
    items: list[CaseItemState]
    result_ready: bool
    handed_over: bool
    notice: Literal["notified", "sending", "not_notified"] | None
    """Whether the citizen was told the result is ready (null before it is, and for a case of
    another hall: that hall tells the citizen)."""
    from_hall: str | None = None
    """The code of the hall that accepted the case, when it is collected here from another."""


class TicketStatus(Ticket):
    """What the citizen's phone shows, with the case behind the ticket and its links."""

    case: CaseDelivery | None
    licences: HolderLicences | None = None
    """The applicant's e-licences and each department's use of them (with a case)."""
    rating: RatingView | None = None
    """The visit's rating once given (with whether 追评 is still open)."""
    status_url: str
    print_url: str
    qr_url: str


class Call(Answer):
    """One call as screens announce it; ``seq`` lets a screen drop what it already has."""

    seq: int
    ticket: str
    window: int
    zone: str
    service: str
    recall: bool
    at: Moment
    repeat: int | None = None
    """Set on a clerk's re-announcement (its id): show and speak the call again."""


class ServiceQueue(Answer):
    code: str
    letter: str
    name_zh: str
    name_en: str
    zone: str
    waiting: int
    open_windows: int
    mean_service_minutes: Minutes
    estimated_wait_minutes: Minutes | None
    longest_wait_minutes: Minutes


class WindowRow(Answer):
    number: int
    zone: str
    kind: str
    state: WindowState
    clerk: str | None = None
    """Only in the manager room's copy: screens and citizens do not see who sits where."""
    services: list[str]
    ticket: str | None
    served_today: int


class QueueSnapshot(Answer):
    """``GET /queue`` and the ``queue`` push."""

    services: list[ServiceQueue]
    windows: list[WindowRow]
    at: Moment


class WindowView(Answer):
    """What a window's console shows (``GET /windows/<n>`` and the ``window`` push)."""

    number: int
    zone: str
    kind: str
    state: WindowState
    clerk: str | None
    clerk_name: str | None
    services: list[str]
    ticket: Ticket | None
    waiting: dict[str, int]
    next: list[str]
    waiting_numbers: list[str]
    """Up to 50 waiting numbers in calling order: what a call out of order may choose."""
    pause_reason: Literal["break", "meeting", "system_fault"] | None
    paused_at: Moment | None
    recalls_needed: int
    """Recalls before a called ticket may be marked a no-show (``[queue]``)."""
    missed: list[str]
    """Today's missed numbers of this window's services, latest first (may rejoin)."""


class Missed(Answer):
    """A missed (过号) number as screens list it."""

    ticket: str
    service: str
    window: int
    zone: str
    at: Moment
