"""Ratings: only after service, once, in range; summary per window and clerk."""

from __future__ import annotations

import datetime as dt

import pytest

from hall_ops import queue
from hall_ops.errors import Conflict, InvalidInput
from hall_ops.queue import ratings


def test_rate_once_after_service(db, hall_config, clock):
    with db.write() as s:
        queue.open_window(s, 4, "c01", clock.now)
        token = queue.take_ticket(s, hall_config, "enterprise", clock.now).status_token
    with pytest.raises(Conflict), db.write() as s:
        ratings.rate(s, token, 5, clock.now)
    with db.write() as s:
        queue.call_next(s, hall_config, 4, "c01", clock.now)
        queue.start_service(s, 4, "c01", clock.now)
        queue.finish(s, 4, "c01", clock.now)
    for bad in (0, 6):
        with pytest.raises(InvalidInput), db.write() as s:
            ratings.rate(s, token, bad, clock.now)
    with db.write() as s:
        r = ratings.rate(s, token, 2, clock.now, comment=" 等太久 ", complaint=True)
        assert (r.window_number, r.clerk_id, r.comment) == (4, "c01", "等太久")
    with pytest.raises(Conflict), db.write() as s:
        ratings.rate(s, token, 5, clock.now)
    day = dt.date(2026, 11, 25)
    with db.read() as s:
        assert ratings.rating_summary(s, day, day) == [
            {"window": 4, "clerk": "c01", "ratings": 1, "mean_score": 2.0, "complaints": 1}]
