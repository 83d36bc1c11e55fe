"""Proof that a call reached the hall: what each call screen reported showing and speaking,
when each screen was last heard from, and the clerk's re-announcements.

* ``models``  — the tables (``screen_presence``, ``call_receipts``, ``call_announcements``);
* ``reach``   — recording what a screen reported, counting a call's reach, re-announcing,
  the screens in service and when each was last heard.
"""
