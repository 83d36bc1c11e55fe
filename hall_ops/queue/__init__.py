"""The queue: tickets, windows and what screens show of them.

* ``tickets``  — take a ticket (rank time = take time minus a priority head start),
  cancel, appointments and their check-in, by resident ID (elderly priority by age), remote
  tickets (checked in at the hall, else lapsed), expiry at the end of the day;
* ``windows``  — what a clerk does at a window; *Call next* is ``windows.call_next``, a call
  out of order ``windows.call_ticket``, a missed ticket's return ``windows.rejoin``;
* ``views``    — snapshots for screens, the citizen's phone and the manager;
* ``records``  — the append-only ticket history every transition writes;
* ``models`` — the tables (ratings: ``hall_ops.evaluation``).

The public functions are re-exported here, so callers write ``queue.call_next(...)``.
"""

from hall_ops.queue.records import ACTIVE
from hall_ops.queue.tickets import (
    age_on,
    cancel_ticket,
    check_in,
    check_in_remote,
    create_appointment,
    expire_stale_tickets,
    lapse_remote_tickets,
    take_ticket,
    ticket_by_token,
)
from hall_ops.queue.views import (
    call_view,
    estimate_wait_minutes,
    hall_layout,
    mean_service_minutes,
    missed_numbers,
    open_windows_by_service,
    public_snapshot,
    queue_snapshot,
    recent_calls,
    status_of,
    ticket_status,
    ticket_view,
    waiting_by_service,
    window_view,
)
from hall_ops.queue.windows import (
    call_next,
    call_ticket,
    close_window,
    finish,
    mark_no_show,
    open_window,
    pause_window,
    recall,
    rejoin,
    start_service,
    transfer,
)

__all__ = [
    "ACTIVE", "age_on", "call_next", "check_in_remote", "lapse_remote_tickets",
    "call_ticket", "call_view", "missed_numbers", "rejoin",
    "cancel_ticket", "check_in", "close_window",
    "create_appointment", "estimate_wait_minutes", "expire_stale_tickets", "finish",
    "hall_layout", "mark_no_show", "mean_service_minutes", "open_window",
    "open_windows_by_service", "pause_window", "public_snapshot", "queue_snapshot", "recall",
    "recent_calls",
    "start_service", "status_of", "take_ticket", "ticket_by_token", "ticket_status", "ticket_view",
    "window_view",
    "transfer", "waiting_by_service",
]
