"""People counting through the vendors' own HTTP APIs, behind the one camera interface.

The cameras most halls buy count people in firmware and report it over their
own APIs rather than (or better than) ONVIF events; each adapter reads only
the counts, over HTTP digest authentication:

* Hikvision (``kind = "hikvision"``, ISAPI): ``POST
  /ISAPI/System/Video/inputs/channels/<ID>/counting/search`` with a daily
  ``CountingStatisticsDescription`` for today; the ``enterCount`` and
  ``exitCount`` of the matches add up to today's crossings (Hikvision Device
  Network SDK (People Counting) Developer Guide V6.1.0.X, ISAPI messages
  XML_CountingStatisticsDescription / XML_CountingStatisticsResult);
* Dahua (``kind = "dahua"``): ``GET
  /cgi-bin/videoStatServer.cgi?action=getSummary&channel=<N>``, key=value
  lines ``summary.EnteredSubtotal.Today``, ``summary.ExitedSubtotal.Today``
  and, for area rules, ``summary.InsideSubtotal.Total`` (Dahua HTTP API
  specification V2.76, "Video Statistics");
* Axis (``kind = "axis"``): the AXIS People Counter app, ``GET
  /local/tvpc/.api?live-sum.json`` → ``{"in": …, "out": …}`` since midnight
  (VAPIX "People counter API").

The camera's clock offset is read from the HTTP Date header of each answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from abc import ABC, abstractmethod
from typing import ClassVar
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import aiohttp
from lxml import etree

from hall_ops.clock import Clock, system_clock
from sensors.camera import (
    UTC_ZONE,
    CameraGarbled,
    CameraNoAnalytics,
    CameraUnauthorized,
    CameraUnreachable,
    Counts,
    door_counts,
    label,
    offset_from_date_header,
    read_number,
)
from sensors.config import CameraConfig

log = logging.getLogger(__name__)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


class HttpCounter(ABC):
    """A counting camera reached over its vendor's HTTP API (digest authentication)."""

    family: ClassVar[str]

    def __init__(self, config: CameraConfig, *, timeout: float = 5.0,
                 clock: Clock = system_clock, timezone: ZoneInfo = UTC_ZONE) -> None:
        self.config = config
        self.timeout = timeout
        self.clock = clock
        self.timezone = timezone
        self.clock_offset: float | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def label(self) -> str:
        return label(self.config)

    async def _request(self, method: str, path: str, what: str,
                       body: str | None = None) -> tuple[int, str]:
        """(HTTP status, text) of one call; no answer and refused credentials raise."""
        if self._session is None:
            self._session = aiohttp.ClientSession(middlewares=(
                aiohttp.DigestAuthMiddleware(self.config.user, self.config.password),))
        url = f"http://{self.config.host}:{self.config.port}{path}"
        try:
            async with asyncio.timeout(self.timeout), \
                    self._session.request(method, url, data=body) as response:
                text = await response.text(errors="replace")
                self.clock_offset = offset_from_date_header(response.headers, self.clock())
                status = response.status
        except TimeoutError:
            raise CameraUnreachable(
                f"{self.label} did not answer {what} within {self.timeout:g} s") from None
        except (aiohttp.ClientConnectionError, OSError):
            raise CameraUnreachable(f"{self.label} is unreachable ({what})") from None
        except aiohttp.ClientError as exc:
            log.info("%s: %s failed: %r", self.label, what, exc)
            raise CameraGarbled(f"{self.label} gave an unusable answer to {what}") from None
        if status == 401:
            raise CameraUnauthorized(f"{self.label} rejected the user name or password")
        return status, text

    @abstractmethod
    async def read_counts(self) -> Counts:
        """The camera's counts now (each vendor's API and document)."""

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


class HikvisionCounter(HttpCounter):
    """Hikvision people counting (line crossings) over ISAPI."""

    family = "Hikvision ISAPI"

    def _search(self) -> str:
        local = self.clock().replace(tzinfo=dt.UTC).astimezone(self.timezone)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(hour=23, minute=59, second=59)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<CountingStatisticsDescription xmlns="http://www.isapi.org/ver20/XMLSchema" '
            'version="2.0"><statisticType>all</statisticType><reportType>daily</reportType>'
            f"<timeSpanList><timeSpan><startTime>{escape(start.isoformat())}</startTime>"
            f"<endTime>{escape(end.isoformat())}</endTime></timeSpan></timeSpanList>"
            "</CountingStatisticsDescription>"
        )

    async def read_counts(self) -> Counts:
        what = "the ISAPI counting search"
        path = f"/ISAPI/System/Video/inputs/channels/{self.config.channel}/counting/search"
        status, text = await self._request("POST", path, what, self._search())
        try:
            root = etree.fromstring(text.encode(), _PARSER)
        except etree.XMLSyntaxError:
            root = None
        if status in (403, 404) or (root is not None and _local_name(root) == "ResponseStatus"
                                    and status != 200):
            raise CameraNoAnalytics(f"{self.label} has no people counting on channel "
                                    f"{self.config.channel} (ISAPI answered {status})")
        if status != 200 or root is None or _local_name(root) != "CountingStatisticsResult":
            raise CameraGarbled(f"{self.label} gave an unreadable answer to {what}")
        entered = exited = 0
        for match in root.iterfind(".//{*}matchElement"):
            enter = read_number(match.findtext("{*}enterCount"))
            leave = read_number(match.findtext("{*}exitCount"))
            if enter is None or leave is None:
                raise CameraGarbled(f"{self.label} gave an unreadable count in {what}")
            entered, exited = entered + enter, exited + leave
        return door_counts(entered, exited, self.clock(), self.clock_offset)


class DahuaCounter(HttpCounter):
    """Dahua people counting: line rules (entered/exited today) or area rules (inside now)."""

    family = "Dahua video statistics"

    async def read_counts(self) -> Counts:
        what = "videoStatServer getSummary"
        path = f"/cgi-bin/videoStatServer.cgi?action=getSummary&channel={self.config.channel}"
        status, text = await self._request("GET", path, what)
        if status in (400, 404, 501):
            raise CameraNoAnalytics(f"{self.label} has no video statistics on channel "
                                    f"{self.config.channel} (answered {status})")
        values = dict(line.strip().partition("=")[::2] for line in text.splitlines()
                      if "=" in line)
        if status != 200 or not any(k.startswith("summary.") for k in values):
            raise CameraGarbled(f"{self.label} gave an unreadable answer to {what}")
        entered = read_number(values.get("summary.EnteredSubtotal.Today"))
        exited = read_number(values.get("summary.ExitedSubtotal.Today"))
        inside = read_number(values.get("summary.InsideSubtotal.Total"))
        now = self.clock()
        if self.config.role == "occupancy" and inside is not None:
            return Counts(max(inside, 0), at=now, clamped=inside < 0,
                          clock_offset=self.clock_offset)
        if entered is None or exited is None:
            raise CameraGarbled(f"{self.label} gave no entered/exited counts in {what}")
        return door_counts(entered, exited, now, self.clock_offset)


class AxisCounter(HttpCounter):
    """The AXIS People Counter app: in and out since midnight."""

    family = "AXIS People Counter"

    async def read_counts(self) -> Counts:
        what = "the People Counter live-sum"
        status, text = await self._request("GET", "/local/tvpc/.api?live-sum.json", what)
        if status == 404:
            raise CameraNoAnalytics(f"{self.label} has no AXIS People Counter app running")
        try:
            data = json.loads(text) if status == 200 else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise CameraGarbled(f"{self.label} gave an unreadable answer to {what}")
        entered = read_number(str(data.get("in")))
        exited = read_number(str(data.get("out")))
        if entered is None or exited is None:
            raise CameraGarbled(f"{self.label} gave no in/out counts in {what}")
        return door_counts(entered, exited, self.clock(), self.clock_offset)


ADAPTERS: dict[str, type[HttpCounter]] = {
    "hikvision": HikvisionCounter, "dahua": DahuaCounter, "axis": AxisCounter,
}
