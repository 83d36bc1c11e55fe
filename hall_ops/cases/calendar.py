"""Working days of the hall: weekends off, public holidays off, make-up days (调休) on.

Legal time limits (办理时限) count working days, not calendar days, and every
year the State Council moves weekends around the holidays, so the calendar is
data (config.toml ``[calendar] holidays = [...], workdays = [...]``), not a rule.

Counting conventions, used by every function here:

- The day of acceptance is not counted: a limit of *n* working days ends on
  the *n*-th working day after it (a limit of 0 means "the same day").
- A pause ``(S, E)`` stops the clock while the applicant owes a supplement:
  the working days after ``S`` up to and including ``E`` do not count. The
  day the supplement is requested still counts (the department worked on the
  case that day); the day it arrives does not (work resumes the next day).
  ``E = None`` means the pause is still running.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Pause = tuple[dt.date, dt.date | None]
"""Clock stopped for the days after the first date up to and including the second."""

DEFAULT_WARNING_FRACTION = 0.8
"""Supervision warns when this share of an item's time limit is used up."""


@dataclass(frozen=True)
class TimeLimitStatus:
    """Where an item stands against its legal time limit on a given day."""

    limit_days: int
    used_days: int
    deadline: dt.date | None
    """None while a pause is running: the end depends on when the supplement arrives."""
    fraction_used: float
    paused: bool
    warning: bool
    """Most of the limit is used up (see ``DEFAULT_WARNING_FRACTION``) but not yet overdue."""
    overdue: bool


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[dt.date] = frozenset()
    """Days off that would otherwise be working days (weekends listed here change nothing)."""
    workdays: frozenset[dt.date] = frozenset()
    """Make-up working days: Saturdays or Sundays worked in exchange for a holiday."""

    def __post_init__(self) -> None:
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"days both holiday and working day: {_dates(both)}")
        weekdays = {d for d in self.workdays if d.weekday() < 5}
        if weekdays:
            raise ValueError(f"make-up working days must fall on a weekend: {_dates(weekdays)}")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> WorkCalendar:
        """Build from the ``[calendar]`` table; a bad entry is named in the ConfigError."""
        from hall_ops.config import ConfigError

        unknown = set(section) - {"holidays", "workdays"}
        if unknown:
            raise ConfigError(f"[calendar]: unknown key(s) {sorted(unknown)}")
        parsed: dict[str, frozenset[dt.date]] = {}
        for key in ("holidays", "workdays"):
            values = section.get(key, [])
            if not isinstance(values, list):
                raise ConfigError(f"[calendar] {key}: must be a list of dates")
            days = set()
            for i, value in enumerate(values):
                days.add(_parse_day(value, f"[calendar] {key}[{i}]", ConfigError))
            parsed[key] = frozenset(days)
        try:
            return cls(holidays=parsed["holidays"], workdays=parsed["workdays"])
        except ValueError as exc:
            raise ConfigError(f"[calendar]: {exc}") from exc

    # ------------------------------------------------------------ plain days

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after ``start`` (``start`` itself when n is 0)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        while n:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days d with a < d <= b; negative when b is before a.

        So ``working_days_between(a, add_working_days(a, n)) == n``. Counted
        arithmetically (weeks, then the exception lists) so a report over
        years costs no more than one over a week.
        """
        if b < a:
            return -self.working_days_between(b, a)
        weeks, rest = divmod((b - a).days, 7)
        count = weeks * 5 + sum(
            1 for i in range(1, rest + 1) if (a + dt.timedelta(days=i)).weekday() < 5
        )
        count += sum(1 for d in self.workdays if a < d <= b)
        count -= sum(1 for d in self.holidays if a < d <= b and d.weekday() < 5)
        return count

    # ------------------------------------------------------------ the clock

    def counted_days(self, start: dt.date, end: dt.date, pauses: Iterable[Pause] = ()) -> int:
        """Working days in (start, end] on which the clock ran."""
        if end <= start:
            return 0
        total = self.working_days_between(start, end)
        for p_start, p_end in _merge(pauses, open_end=end):
            lo, hi = max(p_start, start), min(p_end, end)
            if hi > lo:
                total -= self.working_days_between(lo, hi)
        return total

    def deadline(
        self, start: dt.date, limit_days: int, pauses: Iterable[Pause] = ()
    ) -> dt.date | None:
        """Last day to decide: the ``limit_days``-th counted working day after ``start``.

        None while a pause is running, since the end then depends on when the
        supplement arrives.
        """
        if limit_days < 0:
            raise ValueError("limit_days must not be negative")
        pauses = list(pauses)
        if any(end is None for _, end in pauses):
            return None
        merged = _merge(pauses, open_end=start)
        day, remaining = start, limit_days
        while remaining:
            day += dt.timedelta(days=1)
            if self.is_working_day(day) and not any(s < day <= e for s, e in merged):
                remaining -= 1
        return day

    def fraction_used(
        self, start: dt.date, limit_days: int, today: dt.date, pauses: Iterable[Pause] = ()
    ) -> float:
        """Share of the limit used by the end of ``today``; above 1 means overdue.

        An on-the-spot item (limit 0) is due the day it is accepted: 1.0 on
        that day, one more for every working day after.
        """
        used = self.counted_days(start, today, pauses)
        return used / limit_days if limit_days else used + 1.0

    def status(
        self,
        start: dt.date,
        limit_days: int,
        today: dt.date,
        pauses: Iterable[Pause] = (),
        *,
        warn_at: float = DEFAULT_WARNING_FRACTION,
    ) -> TimeLimitStatus:
        pauses = list(pauses)
        used = self.counted_days(start, today, pauses)
        fraction = self.fraction_used(start, limit_days, today, pauses)
        overdue = used > limit_days
        return TimeLimitStatus(
            limit_days=limit_days,
            used_days=used,
            deadline=self.deadline(start, limit_days, pauses),
            fraction_used=fraction,
            paused=any(end is None for _, end in pauses),
            warning=not overdue and fraction >= warn_at,
            overdue=overdue,
        )


def _merge(pauses: Iterable[Pause], *, open_end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Union of pause intervals (a running pause ends at ``open_end``), so overlaps count once."""
    spans = sorted((s, e if e is not None else max(s, open_end)) for s, e in pauses)
    merged: list[tuple[dt.date, dt.date]] = []
    for s, e in spans:
        if e < s:
            raise ValueError(f"pause ends ({e}) before it starts ({s})")
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _parse_day(value: Any, where: str, error: type[Exception]) -> dt.date:
    # TOML gives real dates for bare 2026-10-01; strings are accepted as well.
    if isinstance(value, dt.datetime):
        raise error(f"{where}: expected a date, got a date-time {value}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise error(f"{where}: expected a date like 2026-10-01, got {value!r}")


def _dates(days: Iterable[dt.date]) -> str:
    return ", ".join(d.isoformat() for d in sorted(days))
