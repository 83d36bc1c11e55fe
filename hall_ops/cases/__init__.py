"""Cases: one window accepts, the back office approves, one window delivers.

* ``intake``      — the intake record at the window (accept-with-gaps, supplements, status);
* ``time_limits`` — working-day limits of items and the 80 % / overdue watch;
* ``slip``        — the routing slip; ``views`` — small views the slip and hand-off share;
* ``handoff``     — the transactional outbox to approval back-ends and its dispatcher;
* ``approval``    — the built-in console, signed webhooks and their callback;
* ``delivery``    — results ready, notices, delivery tickets and hand-over;
* ``catalogue``, ``identity``, ``calendar``, ``models`` — items, ID checks, working days, tables.
"""
