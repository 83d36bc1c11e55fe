"""The crowd a simulated camera sees: people present and door crossings by time of day.

A service hall fills up after opening, peaks mid-morning (9:30-10:30), thins
out over lunch (12:00-13:30) and has a smaller afternoon bump. The curve is a
share of the zone's capacity, so one shape serves every zone. Crossings are
derived from the same curve with a mean dwell time, so an entrance camera's
"in minus out" always equals the people present, as a real door counter would.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import math
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# (hall-local hour, share of capacity present); straight lines in between.
CROWD_CURVE: tuple[tuple[float, float], ...] = (
    (0.0, 0.0), (8.0, 0.0), (8.5, 0.15), (9.0, 0.45), (9.5, 0.8), (10.0, 0.95),
    (10.5, 0.85), (11.0, 0.7), (11.5, 0.6), (12.0, 0.4), (12.5, 0.25), (13.0, 0.22),
    (13.5, 0.35), (14.0, 0.5), (14.5, 0.62), (15.0, 0.68), (15.5, 0.6), (16.0, 0.48),
    (16.5, 0.35), (17.0, 0.2), (17.5, 0.06), (18.0, 0.0), (24.0, 0.0),
)
_HOURS = [h for h, _ in CROWD_CURVE]

# People a zone holds at its busiest, for the zones of the demo hall.
ZONE_CAPACITY = {
    "front_intake": 120,
    "back_approval": 12,
    "public_affairs": 80,
    "egov_experience": 30,
    "business": 25,
}
DEFAULT_CAPACITY = 40


def crowd_share(local_hour: float) -> float:
    """Share of capacity present at a hall-local hour of the day (0..24)."""
    i = bisect.bisect_right(_HOURS, local_hour) - 1
    i = max(0, min(i, len(CROWD_CURVE) - 2))
    (h0, s0), (h1, s1) = CROWD_CURVE[i], CROWD_CURVE[i + 1]
    return s0 + (s1 - s0) * (local_hour - h0) / (h1 - h0)


@dataclass(frozen=True)
class CrowdScenario:
    """Occupancy and crossings of one zone; ``utc`` arguments are naive UTC."""

    zone: str
    capacity: int
    timezone: ZoneInfo
    dwell_minutes: float = 25.0
    """Mean time a visitor stays; sets how many leave per minute (Little's law)."""
    noise: float = 0.04
    """Relative spread of the occupancy reading: detectors miss and double-count a little."""

    @classmethod
    def for_zone(
        cls, zone: str, timezone: ZoneInfo, capacity: int | None = None
    ) -> CrowdScenario:
        if capacity is None:
            capacity = ZONE_CAPACITY.get(zone, DEFAULT_CAPACITY)
        return cls(zone, capacity, timezone)

    def _local(self, utc: dt.datetime) -> dt.datetime:
        return utc.replace(tzinfo=dt.UTC).astimezone(self.timezone)

    def expected(self, utc: dt.datetime) -> float:
        """People present on average at this moment, before detector noise."""
        local = self._local(utc)
        hour = local.hour + local.minute / 60 + local.second / 3600
        return self.capacity * crowd_share(hour)

    def present(self, utc: dt.datetime) -> int:
        """What an occupancy counter reports: the expected crowd plus noise.

        The noise is fixed per zone and minute, so every reading within one
        minute agrees and a test can recompute the figure the camera sent.
        """
        local = self._local(utc)
        minute = local.replace(second=0, microsecond=0)
        mean = self.expected(minute.astimezone(dt.UTC).replace(tzinfo=None))
        if mean <= 0:
            return 0
        seed = hashlib.sha256(f"{self.zone}|{minute.isoformat()}".encode()).digest()
        spread = random.Random(seed).gauss(0.0, self.noise * mean + 0.5)
        return max(0, round(mean + spread))

    def crossings(self, utc: dt.datetime) -> tuple[int, int]:
        """People in and out through the zone's doors since local midnight.

        Integrated minute by minute: everyone present leaves at the dwell
        rate, and arrivals make up whatever the curve needs on top of that
        (never negative, so both counters only ever go up).
        """
        local = self._local(utc)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        minutes = int((local - midnight).total_seconds() // 60)
        entered = left = 0.0
        before = 0.0
        for m in range(1, minutes + 1):
            now = self.capacity * crowd_share(m / 60)
            leaving = max(before / self.dwell_minutes, before - now)
            left += leaving
            entered += now - before + leaving
            before = now
        return math.floor(entered + 1e-9), math.floor(left + 1e-9)
