"""Floor planning: who serves what, and what needs the manager.

* ``workload``   — Erlang C predictions and proposals of window assignments;
* ``auto_mode``  — proposals now, applying them by hand or automatically, the audit trail;
* ``alerts``     — the alert rules; ``overview`` — the manager's live view in one read;
* ``simulation`` — the busy-day simulation that measures the workload policy;
* ``models``     — workload changes (append-only) and auto-mode settings.
"""
