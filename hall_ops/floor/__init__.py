"""Floor planning: who serves what, and what needs the manager.

* ``workload``   — Erlang C predictions and proposals of window assignments;
* ``auto_mode``  — proposals now, applying them by hand or automatically, the audit trail;
* ``alerts``     — the alert rules; ``overview`` — the manager's live view in one read;
* ``simulation`` — the busy-day simulation that measures the workload policy;
* ``plan``       — the floor as it stands (zones, services, windows), read from the rows;
* ``admin``      — the admin page's changes to the floor, each in ``floor_changes``;
* ``models``     — workload and floor changes (append-only) and auto-mode settings.
"""
