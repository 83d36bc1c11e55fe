"""Working-day calendar: holidays, make-up days, and the clock that stops for supplements."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from hall_ops.cases.calendar import WorkCalendar
from hall_ops.config import ConfigError

D = dt.date

# A 2026-style schedule: Spring Festival 15–23 Feb with make-up Saturdays 14 and
# 28 Feb, National Day 1–7 Oct with make-up Sunday 20 Sep and Saturday 10 Oct.
CONFIG = """
[calendar]
holidays = [
  2026-01-01, 2026-01-02, 2026-01-03,
  2026-02-15, 2026-02-16, 2026-02-17, 2026-02-18, 2026-02-19,
  2026-02-20, 2026-02-21, 2026-02-22, 2026-02-23,
  2026-04-04, 2026-04-05, 2026-04-06,
  2026-05-01, 2026-05-02, 2026-05-03, 2026-05-04, 2026-05-05,
  2026-06-19, 2026-06-20, 2026-06-21,
  2026-09-25, 2026-09-26, 2026-09-27,
  2026-10-01, 2026-10-02, 2026-10-03, 2026-10-04, 2026-10-05, 2026-10-06, 2026-10-07,
]
workdays = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
"""


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.from_config(tomllib.loads(CONFIG)["calendar"])


def naive_count(cal: WorkCalendar, a: dt.date, b: dt.date) -> int:
    days = (a + dt.timedelta(days=i) for i in range(1, (b - a).days + 1))
    return sum(1 for day in days if cal.is_working_day(day))


def test_holidays_weekends_and_make_up_days(cal):
    assert cal.is_working_day(D(2026, 2, 13))  # Friday before the festival
    assert cal.is_working_day(D(2026, 2, 14))  # make-up Saturday
    assert not cal.is_working_day(D(2026, 2, 16))  # Monday, holiday
    assert not cal.is_working_day(D(2026, 2, 21))  # Saturday inside the holiday
    assert cal.is_working_day(D(2026, 2, 24))
    assert cal.is_working_day(D(2026, 2, 28))  # make-up Saturday
    assert not cal.is_working_day(D(2026, 3, 1))  # ordinary Sunday
    assert cal.is_working_day(D(2026, 9, 20))  # make-up Sunday
    assert not cal.is_working_day(D(2026, 9, 19))  # the Saturday before it stays off
    assert not cal.is_working_day(D(2026, 10, 5))
    assert cal.is_working_day(D(2026, 10, 10))
    assert not cal.is_working_day(D(2026, 10, 11))
    without = WorkCalendar()
    assert without.is_working_day(D(2026, 10, 5)) and not without.is_working_day(D(2026, 10, 10))


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 2, 13), 0, D(2026, 2, 13)),
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # the make-up Saturday counts
        (D(2026, 2, 13), 2, D(2026, 2, 24)),  # then nine days off
        (D(2026, 2, 12), 5, D(2026, 2, 26)),
        (D(2026, 2, 16), 1, D(2026, 2, 24)),  # accepted on a holiday (hall open for a duty shift)
        (D(2026, 2, 27), 1, D(2026, 2, 28)),
        (D(2026, 2, 27), 2, D(2026, 3, 2)),
        (D(2026, 9, 18), 1, D(2026, 9, 20)),  # Saturday off, make-up Sunday on
        (D(2026, 9, 24), 1, D(2026, 9, 28)),  # Mid-Autumn 25–27
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 9, 28), 10, D(2026, 10, 16)),
        (D(2026, 10, 9), 1, D(2026, 10, 10)),
        (D(2026, 10, 9), 2, D(2026, 10, 12)),
        (D(2026, 12, 31), 1, D(2027, 1, 1)),  # no 2027 list given: Friday is a working day
    ],
)
def test_add_working_days(cal, start, n, expected):
    assert cal.add_working_days(start, n) == expected
    assert cal.working_days_between(start, expected) == n


def test_add_and_between_are_inverse_for_every_day_of_2026(cal):
    day = D(2025, 12, 20)
    while day <= D(2027, 1, 10):
        for n in range(0, 26):
            assert cal.working_days_between(day, cal.add_working_days(day, n)) == n, (day, n)
        day += dt.timedelta(days=1)


def test_between_matches_day_by_day_count(cal):
    start = D(2025, 12, 1)
    days = [start + dt.timedelta(days=i) for i in range(0, 420, 3)]
    for a in days:
        for b in days:
            expected = naive_count(cal, a, b) if b >= a else -naive_count(cal, b, a)
            assert cal.working_days_between(a, b) == expected, (a, b)


def test_year_totals(cal):
    # 365 days: 261 weekdays, minus 19 holidays on weekdays, plus 6 make-up days.
    assert cal.working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == 248
    assert WorkCalendar().working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == 261


def test_negative_n_is_refused(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(D(2026, 3, 2), -1)


# ---------------------------------------------------------------- the clock with pauses

ACCEPTED = D(2026, 9, 28)  # Monday; limit 10 → 16 Oct across National Day


def test_deadline_and_fraction_without_pauses(cal):
    assert cal.deadline(ACCEPTED, 10) == D(2026, 10, 16)
    assert cal.fraction_used(ACCEPTED, 10, ACCEPTED) == 0
    assert cal.fraction_used(ACCEPTED, 10, D(2026, 10, 7)) == 0.2  # two days, then the holiday
    s = cal.status(ACCEPTED, 10, D(2026, 10, 14))
    assert (s.used_days, s.warning, s.overdue) == (8, True, False)
    s = cal.status(ACCEPTED, 10, D(2026, 10, 16))
    assert (s.fraction_used, s.warning, s.overdue) == (1.0, True, False)
    s = cal.status(ACCEPTED, 10, D(2026, 10, 17))  # Saturday: nothing more used
    assert (s.used_days, s.overdue) == (10, False)
    s = cal.status(ACCEPTED, 10, D(2026, 10, 19))
    assert (s.fraction_used, s.warning, s.overdue) == (1.1, False, True)
    assert s.deadline == D(2026, 10, 16)
    assert not cal.status(ACCEPTED, 10, D(2026, 10, 13)).warning  # 7 of 10


def test_pause_moves_the_deadline_by_the_working_days_paused(cal):
    # Supplement requested Wed 30 Sep, supplied Fri 9 Oct: 8 and 9 Oct do not count
    # (the holiday in between was not counted anyway).
    pause = [(D(2026, 9, 30), D(2026, 10, 9))]
    assert cal.counted_days(ACCEPTED, D(2026, 10, 12), pause) == 4  # 29, 30 Sep; 10, 12 Oct
    assert cal.deadline(ACCEPTED, 10, pause) == D(2026, 10, 20)
    assert cal.fraction_used(ACCEPTED, 10, D(2026, 10, 20), pause) == 1.0
    assert cal.status(ACCEPTED, 10, D(2026, 10, 19), pause).overdue is False
    assert cal.status(ACCEPTED, 10, D(2026, 10, 21), pause).overdue is True


def test_running_pause_has_no_deadline_and_frozen_fraction(cal):
    running = [(D(2026, 10, 12), None)]
    assert cal.deadline(ACCEPTED, 10, running) is None
    used = [cal.fraction_used(ACCEPTED, 10, D(2026, 10, 12) + dt.timedelta(days=i), running)
            for i in range(30)]
    assert set(used) == {0.6}  # 29, 30 Sep; 8, 9, 10, 12 Oct
    s = cal.status(ACCEPTED, 10, D(2026, 11, 30), running)
    assert s.paused and not s.overdue and s.deadline is None


def test_overlapping_pauses_count_once_and_same_day_pause_stops_nothing(cal):
    one = [(D(2026, 10, 12), D(2026, 10, 14))]
    overlapping = one + [(D(2026, 10, 13), D(2026, 10, 14)), (D(2026, 10, 12), D(2026, 10, 13))]
    assert cal.deadline(ACCEPTED, 10, overlapping) == cal.deadline(ACCEPTED, 10, one)
    assert cal.deadline(ACCEPTED, 10, one) == D(2026, 10, 20)
    adjacent = [(D(2026, 10, 12), D(2026, 10, 13)), (D(2026, 10, 13), D(2026, 10, 14))]
    assert cal.deadline(ACCEPTED, 10, adjacent) == D(2026, 10, 20)
    same_day = [(D(2026, 10, 12), D(2026, 10, 12))]
    assert cal.deadline(ACCEPTED, 10, same_day) == D(2026, 10, 16)
    # A pause after the deadline cannot move it back into time.
    late = [(D(2026, 10, 19), D(2026, 10, 30))]
    assert cal.deadline(ACCEPTED, 10, late) == D(2026, 10, 16)


def test_pause_entirely_inside_a_holiday_changes_nothing(cal):
    inside = [(D(2026, 10, 1), D(2026, 10, 7))]
    assert cal.deadline(ACCEPTED, 10, inside) == D(2026, 10, 16)
    assert cal.counted_days(ACCEPTED, D(2026, 10, 16), inside) == 10


def test_deadline_with_pauses_agrees_with_counted_days(cal):
    pauses = [(D(2026, 2, 10), D(2026, 2, 25)), (D(2026, 3, 3), D(2026, 3, 4))]
    for start_offset in range(0, 40):
        start = D(2026, 2, 1) + dt.timedelta(days=start_offset)
        for limit in (1, 3, 5, 15):
            deadline = cal.deadline(start, limit, pauses)
            assert cal.counted_days(start, deadline, pauses) == limit
            assert cal.counted_days(start, deadline - dt.timedelta(days=1), pauses) == limit - 1


def test_on_the_spot_item(cal):
    day = D(2026, 10, 9)
    assert cal.deadline(day, 0) == day
    s = cal.status(day, 0, day)
    assert (s.fraction_used, s.warning, s.overdue) == (1.0, True, False)
    s = cal.status(day, 0, D(2026, 10, 10))
    assert (s.fraction_used, s.overdue) == (2.0, True)


def test_custom_warning_threshold(cal):
    assert cal.status(ACCEPTED, 10, D(2026, 10, 13), warn_at=0.7).warning
    assert not cal.status(ACCEPTED, 10, D(2026, 10, 12), warn_at=0.7).warning


def test_bad_pause_is_refused(cal):
    with pytest.raises(ValueError):
        cal.deadline(ACCEPTED, 5, [(D(2026, 10, 9), D(2026, 10, 8))])


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"holidays": ["2026-10-01", "2026-13-01"]}, "[calendar] holidays[1]"),
        ({"workdays": [D(2026, 10, 10), "soon"]}, "[calendar] workdays[1]"),
        ({"holidays": "2026-10-01"}, "must be a list"),
        ({"holidays": [dt.datetime(2026, 10, 1, 8, 0)]}, "date-time"),
        ({"workdays": ["2026-10-09"]}, "must fall on a weekend: 2026-10-09"),
        ({"holidays": ["2026-10-10"], "workdays": ["2026-10-10"]}, "both holiday and working day"),
        ({"holiday": ["2026-10-01"]}, "unknown key"),
    ],
)
def test_bad_calendar_config_names_the_entry(section, message):
    with pytest.raises(ConfigError) as err:
        WorkCalendar.from_config(section)
    assert message in str(err.value)


def test_empty_config_is_weekends_only():
    cal = WorkCalendar.from_config({})
    assert cal.add_working_days(D(2026, 10, 1), 2) == D(2026, 10, 5)
