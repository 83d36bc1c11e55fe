"""Hikvision, Dahua and Axis counting cameras on loopback, built from the vendors' API documents.

Each answers the one call the adapters in :mod:`sensors.vendors` make, with
the message shapes of the document it follows, behind HTTP digest
authentication (RFC 7616, MD5, qop=auth) as these cameras ship, and with the
HTTP Date header taken from the camera's clock. Counts come from
:class:`sensors.scenario.CrowdScenario`:

* ``hikvision`` follows the Hikvision Device Network SDK (People Counting)
  Developer Guide V6.1.0.X (2022-03-11), ISAPI section: ``POST
  /ISAPI/System/Video/inputs/channels/<ID>/counting/search`` takes an
  XML_CountingStatisticsDescription (statisticType, reportType, timeSpanList)
  and answers an XML_CountingStatisticsResult (responseStatus,
  responseStatusStrg, numOfMatches, totalMatches, matchList/matchElement with
  timeSpan, enterCount, exitCount, passingCount), one match per hour of the
  span so far. A channel without counting answers 403 with an
  XML_ResponseStatus (statusCode 4, subStatusCode notSupport).
* ``dahua`` follows the Dahua HTTP API specification V2.76 (2019-07-25),
  "Video Statistics": ``GET /cgi-bin/videoStatServer.cgi?action=getSummary&
  channel=<N>`` answers text/plain ``summary.<Field>=<value>`` lines (Channel,
  RuleName NumberStat for lines or ManNumDetection for areas,
  EnteredSubtotal/ExitedSubtotal .Hour/.Today/.Total/.TotalInTimeSection,
  InsideSubtotal.Total, UTC); without the feature it answers 400 "Error /
  Bad Request!".
* ``axis`` follows VAPIX "People counter API" (AXIS People Counter app):
  ``GET /local/tvpc/.api?live-sum.json`` answers ``{"serial", "name",
  "timestamp": "YYYYMMDDhhmmss" (camera local time), "in", "out"}`` counted
  since local midnight; without the app the path is 404.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from lxml import etree

from sensors.digest import DigestChecker
from sensors.scenario import CrowdScenario
from sensors.simulator import Clock, system_clock

KINDS = ("hikvision", "dahua", "axis")
ISAPI_NS = "http://www.isapi.org/ver20/XMLSchema"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


class VendorCameraSimulator:
    """One simulated vendor camera; a context manager like :class:`CameraSimulator`."""

    def __init__(self, kind: str, zone: str, *, role: str = "entrance", user: str = "admin",
                 password: str = "admin", host: str = "127.0.0.1", port: int = 0,
                 clock: Clock = system_clock, timezone: str = "Asia/Shanghai",
                 capacity: int | None = None, counting: bool = True, channel: int = 1) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.kind, self.zone, self.role = kind, zone, role
        self.user, self.password = user, password
        self.host, self.requested_port = host, port
        self.clock = clock
        self.timezone = ZoneInfo(timezone)
        self.scenario = CrowdScenario.for_zone(zone, self.timezone, capacity)
        self.counting = counting
        self.channel = channel
        self.digest = DigestChecker(user, password, realm=f"{kind}-sim")
        self.serial = hashlib.sha1(f"{kind}|{zone}".encode()).hexdigest()[:12].upper()
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("simulator is not running")
        return self._server.server_address[1]

    def start(self) -> VendorCameraSimulator:
        handler = type("Handler", (_Handler,), {"sim": self})
        self._server = ThreadingHTTPServer((self.host, self.requested_port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"{self.kind}-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> VendorCameraSimulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def local(self, utc: dt.datetime) -> dt.datetime:
        return utc.replace(tzinfo=dt.UTC).astimezone(self.timezone)

    def _crossings(self, local: dt.datetime) -> tuple[int, int]:
        return self.scenario.crossings(local.astimezone(dt.UTC).replace(tzinfo=None))

    # ---- the vendors' calls -------------------------------------------------
    def hikvision_search(self, body: bytes) -> tuple[int, str, str]:
        if not self.counting:
            return 403, "application/xml", _isapi_status(4, "Invalid Operation", "notSupport")
        try:
            request = etree.fromstring(body, _PARSER)
            start = dt.datetime.fromisoformat(
                (request.findtext(".//{*}timeSpan/{*}startTime") or "").strip())
            end = dt.datetime.fromisoformat(
                (request.findtext(".//{*}timeSpan/{*}endTime") or "").strip())
            report = (request.findtext("{*}reportType") or "").strip()
        except (etree.XMLSyntaxError, AttributeError, ValueError):
            return 400, "application/xml", _isapi_status(6, "Invalid XML Content", "badXmlContent")
        now = self.local(self.clock())
        end = min(end, now)
        matches = []
        hour = start
        while hour < end and report == "daily":
            until = min(hour + dt.timedelta(hours=1), end)
            in0, out0 = self._crossings(hour)
            in1, out1 = self._crossings(until)
            matches.append(
                f"<matchElement><timeSpan><startTime>{hour.isoformat()}</startTime>"
                f"<endTime>{until.isoformat()}</endTime></timeSpan>"
                f"<enterCount>{in1 - in0}</enterCount><exitCount>{out1 - out0}</exitCount>"
                "<passingCount>0</passingCount></matchElement>")
            hour = until
        return 200, "application/xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><CountingStatisticsResult version="2.0" '
            f'xmlns="{ISAPI_NS}"><responseStatus>true</responseStatus>'
            f"<responseStatusStrg>OK</responseStatusStrg><numOfMatches>{len(matches)}"
            f"</numOfMatches><totalMatches>{len(matches)}</totalMatches>"
            f"<matchList>{''.join(matches)}</matchList></CountingStatisticsResult>")

    def dahua_summary(self, query: dict[str, list[str]]) -> tuple[int, str, str]:
        if not self.counting or query.get("action") != ["getSummary"]:
            return 400, "text/plain", "Error\r\nBad Request!\r\n"
        utc = self.clock()
        entered, exited = self._crossings(self.local(utc))
        lines = {
            "Channel": str(self.channel - 1),
            "EnteredSubtotal.Hour": "0", "EnteredSubtotal.Today": str(entered),
            "EnteredSubtotal.Total": str(entered), "EnteredSubtotal.TotalInTimeSection": "0",
            "ExitedSubtotal.Hour": "0", "ExitedSubtotal.Today": str(exited),
            "ExitedSubtotal.Total": str(exited), "ExitedSubtotal.TotalInTimeSection": "0",
            "RuleName": "NumberStat" if self.role == "entrance" else "ManNumDetection",
            "UTC": str(int(utc.replace(tzinfo=dt.UTC).timestamp())),
        }
        if self.role == "occupancy":
            lines["InsideSubtotal.Total"] = str(self.scenario.present(utc))
        return 200, "text/plain", "".join(f"summary.{k}={v}\r\n" for k, v in sorted(lines.items()))

    def axis_live_sum(self) -> tuple[int, str, str]:
        if not self.counting:
            return 404, "text/html", "<html><body>404 Not Found</body></html>"
        local = self.local(self.clock())
        entered, exited = self._crossings(local)
        return 200, "application/json", json.dumps({
            "serial": self.serial, "name": f"{self.zone} door",
            "timestamp": local.strftime("%Y%m%d%H%M%S"), "in": entered, "out": exited})


def _isapi_status(code: int, text: str, sub: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><ResponseStatus version="2.0" '
            f'xmlns="{ISAPI_NS}"><requestURL>/ISAPI/System/Video/inputs/channels/1/counting/'
            f"search</requestURL><statusCode>{code}</statusCode><statusString>{text}"
            f"</statusString><subStatusCode>{sub}</subStatusCode></ResponseStatus>")


class _Handler(BaseHTTPRequestHandler):
    sim: VendorCameraSimulator

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        return email.utils.format_datetime(self.sim.clock().replace(tzinfo=dt.UTC), usegmt=True)

    def _answer(self, status: int, content_type: str, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self, method: str) -> bool:
        if self.sim.digest.check(method, self.headers.get("Authorization")):
            return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", self.sim.digest.challenge())
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if not self._authorized("GET"):
            return
        self.sim.requests.append(f"GET {url.path}")
        if self.sim.kind == "dahua" and url.path == "/cgi-bin/videoStatServer.cgi":
            query = parse_qs(url.query)
            if query.get("channel") != [str(self.sim.channel)]:
                self._answer(400, "text/plain", "Error\r\nBad Request!\r\n")
                return
            self._answer(*self.sim.dahua_summary(query))
        elif self.sim.kind == "axis" and url.path == "/local/tvpc/.api" \
                and url.query == "live-sum.json":
            self._answer(*self.sim.axis_live_sum())
        else:
            self._answer(404, "text/plain", "Not Found")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self._authorized("POST"):
            return
        self.sim.requests.append(f"POST {url.path}")
        path = f"/ISAPI/System/Video/inputs/channels/{self.sim.channel}/counting/search"
        if self.sim.kind == "hikvision" and url.path == path:
            self._answer(*self.sim.hikvision_search(body))
        else:
            self._answer(404, "application/xml", _isapi_status(4, "Invalid Operation",
                                                               "notSupport"))
