"""Reports: figures from a hand-made day, grouped several ways, and CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from hall_ops import queue
from hall_ops.errors import InvalidInput
from hall_ops.reports import tickets as reports


def serve(db, hall, clock, window, clerk, wait_min, service_min):
    with db.write() as s:
        queue.take_ticket(s, hall, "enterprise", clock.now)
    clock.advance(minutes=wait_min)
    with db.write() as s:
        queue.call_next(s, hall, window, clerk, clock.now)
        queue.start_service(s, window, clerk, clock.now)
    clock.advance(minutes=service_min)
    with db.write() as s:
        queue.finish(s, window, clerk, clock.now)


def test_report_by_service_window_and_hour(db, hall_config, clock):
    with db.write() as s:
        queue.open_window(s, 4, "c01", clock.now)
        queue.open_window(s, 5, "c02", clock.now)
    for wait in (2, 4, 6, 8, 10):
        serve(db, hall_config, clock, 4, "c01", wait, 5)
    serve(db, hall_config, clock, 5, "c02", 20, 9)
    with db.write() as s:
        queue.take_ticket(s, hall_config, "enterprise", clock.now)
        queue.call_next(s, hall_config, 4, "c01", clock.now)
        for _ in range(2):
            queue.recall(s, 4, "c01", clock.now)
        queue.mark_no_show(s, hall_config, 4, "c01", clock.now)
    day = dt.date(2026, 11, 25)
    with db.read() as s:
        by_service = reports.ticket_report(s, hall_config, day, day, "service")
        by_window = {r.key: r for r in reports.ticket_report(s, hall_config, day, day, "window")}
        by_hour = reports.ticket_report(s, hall_config, day, day, "hour")
    (row,) = by_service
    assert (row.tickets, row.served, row.no_shows) == (7, 6, 1)
    assert row.wait_p90_minutes == pytest.approx(20, abs=0.1)
    assert by_window["4"].service_mean_minutes == pytest.approx(5, abs=0.1)
    assert by_window["5"].wait_mean_minutes == pytest.approx(20, abs=0.1)
    assert by_hour[0].key == "10:00"
    text = reports.report_csv(reports.ReportRow, by_service, "service")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["service"] == "enterprise" and rows[0]["served"] == "6"


def test_report_rejects_bad_ranges(db, hall_config):
    day = dt.date(2026, 11, 25)
    with db.read() as s, pytest.raises(InvalidInput):
        reports.ticket_report(s, hall_config, day, day - dt.timedelta(days=1), "service")
    with db.read() as s, pytest.raises(InvalidInput):
        reports.ticket_report(s, hall_config, day, day, "colour")


def test_percentile_nearest_rank():
    assert reports.percentile([], 0.9) is None
    assert reports.percentile(list(range(1, 11)), 0.9) == 9
    assert reports.percentile([5], 0.5) == 5
