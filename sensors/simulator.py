"""An ONVIF people-counting camera on loopback, for demos and tests.

(Over 500 lines on purpose: one device, its SOAP envelopes and WS-Security
checks, kept in one file as the single stand-in camera of demos and tests.)

A real SOAP 1.2 server that is as strict as the ONVIF Core and Analytics
specifications (and real cameras) are, so a client that only works against a
forgiving server fails here first:

* device service: GetSystemDateAndTime, GetCapabilities, GetServices (these
  three without credentials, as ONVIF's PRE_AUTH access class allows, unless
  ``time_needs_auth`` as on some Axis firmware), GetDeviceInformation,
  GetScopes and GetServiceCapabilities;
* media service: GetProfiles, GetSnapshotUri, GetServiceCapabilities, and the
  snapshot itself (a small PNG behind HTTP digest authentication);
* analytics service: GetServiceCapabilities, GetSupportedAnalyticsModules,
  GetSupportedRules and GetRules (the counting rules below);
* events service: GetServiceCapabilities, GetEventProperties,
  CreatePullPointSubscription, and on the subscription's own address
  PullMessages, SetSynchronizationPoint, Renew and Unsubscribe. Every event
  call must carry WS-Addressing headers (wsa:Action, wsa:MessageID, wsa:To),
  as the WS-BaseNotification binding requires; without them the call gets
  ``env:Sender / wsa:MessageAddressingHeaderRequired``.

Every other call must carry a WS-Security UsernameToken with a PasswordDigest
(Base64(SHA1(nonce + created + password))); a wrong one gets the SOAP fault
``env:Sender / ter:NotAuthorized`` with HTTP 400, and a replayed nonce is
refused. With ``max_skew`` set, a token created further than that from the
camera's clock is refused too (as real cameras do). With ``http_digest`` the
camera also challenges requests without a valid token with HTTP 401 and a
Digest challenge, and accepts HTTP digest instead (RFC 7616, MD5, qop=auth).
Faults follow the SOAP 1.2 HTTP binding: env:Sender → 400, env:Receiver → 500.

Service addresses (XAddrs, the subscription address) are built from the Host
header the client used, or from ``advertise`` ("host:port") to act like a
camera behind NAT or one that names another interface.

Counts follow the ONVIF Analytics Service specification (the rules Profile M
devices provide), driven by :class:`sensors.scenario.CrowdScenario`:

* role ``occupancy``: an OccupancyCounting rule, topic
  ``tns1:RuleEngine/CountAggregation/OccupancyCounter``, Data ``Count`` =
  people inside now;
* role ``entrance``: two LineCounting rules ("In" and "Out", one per
  direction), topic ``tns1:RuleEngine/CountAggregation/Counter``, Data
  ``Count`` = crossings since the daily reset at local midnight.

``rules`` replaces these with any list of :class:`Rule` (several video
sources, vendor topics, odd number formats). Both are property events: a new
subscription (or SetSynchronizationPoint) first gets ``Initialized`` messages
with the current values, then ``Changed`` messages when they move, and
``Deleted`` when a rule is removed (``delete_rule``).

For tests: ``clock`` replaces the camera's time (scenario, message times,
subscription expiry, the HTTP Date header), ``fail = "drop"`` makes it hang up
without answering, ``fail = "slow"`` makes it answer only after
``slow_seconds``, ``garble`` spoils PullMessages answers ("no-times": no
CurrentTime/TerminationTime, "truncated": cut in half, "fault": an
env:Receiver fault), ``reboot()`` forgets every subscription. Run standalone
with::

    python -m sensors.simulator --port 8081 --zone front_intake --user admin --password x
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import secrets
import struct
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

import isodate
from lxml import etree

from sensors.digest import DigestChecker
from sensors.scenario import CrowdScenario

Clock = Callable[[], dt.datetime]

NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "tan": "http://www.onvif.org/ver20/analytics/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wstop": "http://docs.oasis-open.org/wsn/t-1",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "tns1": "http://www.onvif.org/ver10/topics",
    "tnsaxis": "http://www.axis.com/2009/event/topics",
    "ter": "http://www.onvif.org/ver10/error",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "wsrf-rw": "http://docs.oasis-open.org/wsrf/rw-2",
    "xs": "http://www.w3.org/2001/XMLSchema",
}
_XMLNS = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items())

OCCUPANCY_TOPIC = "tns1:RuleEngine/CountAggregation/OccupancyCounter"
LINE_COUNT_TOPIC = "tns1:RuleEngine/CountAggregation/Counter"
TOPIC_DIALECT = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
ROLES = ("occupancy", "entrance")
FAIL_MODES = (None, "drop", "slow")
GARBLE_MODES = (None, "no-times", "truncated", "fault")
PRE_AUTH = {"GetSystemDateAndTime", "GetCapabilities", "GetServices"}
EVENT_PATHS = ("/onvif/events_service", "/onvif/subscription/")
DEFAULT_SUBSCRIPTION = dt.timedelta(seconds=60)
MAX_PULL_WAIT = 10.0
"""Longest a PullMessages call waits for news, whatever Timeout the client asks for."""
ANALYTICS_CONFIG = "VideoAnalyticsConfig_1"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _iso(utc: dt.datetime) -> str:
    return utc.replace(microsecond=0).isoformat() + "Z"


class SoapFault(Exception):
    """A fault to send back: env code, ONVIF subcodes and reason; HTTP status per SOAP 1.2."""

    def __init__(self, code: str, subcodes: tuple[str, ...], reason: str,
                 status: int | None = None) -> None:
        super().__init__(reason)
        self.code, self.subcodes, self.reason = code, subcodes, reason
        self.status = status or (500 if code == "env:Receiver" else 400)

    def xml(self) -> str:
        sub = ""
        for value in reversed(self.subcodes):
            sub = f"<env:Subcode><env:Value>{value}</env:Value>{sub}</env:Subcode>"
        return (
            f"<env:Fault><env:Code><env:Value>{self.code}</env:Value>{sub}</env:Code>"
            f'<env:Reason><env:Text xml:lang="en">{escape(self.reason)}</env:Text></env:Reason>'
            "</env:Fault>"
        )


def _flags(**flags: bool) -> str:
    """Boolean elements of an ONVIF capabilities structure, in the order given."""
    return "".join(f"<tt:{name}>{str(on).lower()}</tt:{name}>" for name, on in flags.items())


def _posix_tz(local: dt.datetime) -> str:
    """The POSIX TZ string ONVIF uses, e.g. CST-8 for UTC+8 (the sign is inverted)."""
    offset = local.utcoffset() or dt.timedelta(0)
    minutes = -int(offset.total_seconds() // 60)
    name = local.tzname() or "UTC"
    if not name.isalpha():
        name = f"<{name}>"
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{name}{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _not_authorized() -> SoapFault:
    return SoapFault("env:Sender", ("ter:NotAuthorized",), "Sender not Authorized")


@dataclass
class Rule:
    """One counting rule of the camera: what its events say.

    ``value`` is a number, a text sent as is (``"17.0"``), or a function of
    the camera's UTC time. ``item`` names the Data item carrying it.
    """

    source: str
    name: str
    topic: str
    value: Any
    item: str = "Count"
    kind: str = "tt:OccupancyCounting"

    def key(self) -> tuple[str, str, str]:
        return self.topic, self.source, self.name

    def text(self, utc: dt.datetime) -> str:
        value = self.value(utc) if callable(self.value) else self.value
        return str(value)


@dataclass
class Subscription:
    id: str
    expires: dt.datetime
    reported: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """Last value sent per rule: a message goes out only when it changes."""
    deleted: list[Rule] = field(default_factory=list)
    """Rules removed since the last pull, announced with PropertyOperation Deleted."""


def _png(width: int, height: int) -> bytes:
    """A small grey-gradient PNG, built by hand so the camera needs no imaging library."""
    rows = b"".join(
        b"\x00" + bytes((60 + (x * 120) // width + (y * 60) // height) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class CameraSimulator:
    """One simulated camera; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        zone: str,
        *,
        user: str = "admin",
        password: str = "admin",
        role: str = "occupancy",
        host: str = "127.0.0.1",
        port: int = 0,
        capacity: int | None = None,
        timezone: str = "Asia/Shanghai",
        clock: Clock = system_clock,
        name: str | None = None,
        rules: list[Rule] | None = None,
        advertise: str | None = None,
        http_digest: bool = False,
        max_skew: float | None = None,
        time_needs_auth: bool = False,
    ) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        self.zone, self.user, self.password, self.role = zone, user, password, role
        self.host, self.requested_port = host, port
        self.clock = clock
        self.name = name or f"sim-{zone}-{role}"
        self.scenario = CrowdScenario.for_zone(zone, ZoneInfo(timezone), capacity)
        self.rules = rules if rules is not None else self._default_rules()
        self.advertise = advertise
        self.http_digest = http_digest
        self.max_skew = max_skew
        self.time_needs_auth = time_needs_auth
        self.serial = hashlib.sha1(f"{self.name}|{zone}|{role}".encode()).hexdigest()[:12].upper()
        self.slow_seconds = 10.0
        self._garble: str | None = None
        self.snapshot = _png(64, 48)
        self.subscriptions: dict[str, Subscription] = {}
        self.requests: deque[str] = deque(maxlen=500)
        """Operations answered, newest last: lets a test see what a client did."""
        self.digest = DigestChecker(user, password, realm=self.name)
        self._fail: str | None = None
        self._lock = threading.Lock()
        self._nonces: deque[str] = deque(maxlen=1000)
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _default_rules(self) -> list[Rule]:
        if self.role == "occupancy":
            return [Rule("VideoSource_1", "Occupancy", OCCUPANCY_TOPIC, self.scenario.present)]
        return [
            Rule("VideoSource_1", "In", LINE_COUNT_TOPIC,
                 lambda utc: self.scenario.crossings(utc)[0], kind="tt:LineCounting"),
            Rule("VideoSource_1", "Out", LINE_COUNT_TOPIC,
                 lambda utc: self.scenario.crossings(utc)[1], kind="tt:LineCounting"),
        ]

    # ---- lifecycle ---------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("simulator is not running")
        return self._server.server_address[1]

    @property
    def fail(self) -> str | None:
        return self._fail

    @fail.setter
    def fail(self, mode: str | None) -> None:
        if mode not in FAIL_MODES:
            raise ValueError(f"fail must be one of {FAIL_MODES}, got {mode!r}")
        self._fail = mode

    @property
    def garble(self) -> str | None:
        return self._garble

    @garble.setter
    def garble(self, mode: str | None) -> None:
        if mode not in GARBLE_MODES:
            raise ValueError(f"garble must be one of {GARBLE_MODES}, got {mode!r}")
        self._garble = mode

    def start(self) -> CameraSimulator:
        """Listen on the port; OSError (e.g. the port is taken) leaves nothing running."""
        handler = type("Handler", (_Handler,), {"sim": self})
        self._stopping.clear()
        self._server = _Server((self.host, self.requested_port), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=f"onvif-sim-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> CameraSimulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def reboot(self) -> None:
        """Forget every subscription, as a camera does when it restarts."""
        with self._lock:
            self.subscriptions.clear()

    def delete_rule(self, name: str, *, announce: bool = True) -> None:
        """Remove a counting rule; ``announce``: tell subscribers with a Deleted message."""
        with self._lock:
            gone = [r for r in self.rules if r.name == name]
            self.rules = [r for r in self.rules if r.name != name]
            for subscription in self.subscriptions.values():
                for rule in gone:
                    if subscription.reported.pop(rule.key(), None) is not None and announce:
                        subscription.deleted.append(rule)

    def device_url(self) -> str:
        return f"http://{self.host}:{self.port}/onvif/device_service"

    # ---- security ----------------------------------------------------------
    def check_ws_security(self, envelope: etree._Element) -> None:
        token = envelope.find("env:Header/wsse:Security/wsse:UsernameToken", NS)
        if token is None:
            raise _not_authorized()
        username = token.findtext("wsse:Username", namespaces=NS)
        password = token.find("wsse:Password", NS)
        nonce_text = token.findtext("wsse:Nonce", namespaces=NS)
        created = token.findtext("wsu:Created", namespaces=NS)
        if (username != self.user or password is None or nonce_text is None or created is None
                or not (password.get("Type") or "").endswith("#PasswordDigest")):
            raise _not_authorized()
        try:
            nonce = base64.b64decode(nonce_text, validate=True)
        except ValueError:
            raise _not_authorized() from None
        expected = base64.b64encode(
            hashlib.sha1(nonce + created.encode() + self.password.encode()).digest()
        ).decode()
        if not hmac.compare_digest(expected, (password.text or "").strip()):
            raise _not_authorized()
        if self.max_skew is not None:
            try:
                moment = isodate.parse_datetime(created.strip())
            except (ValueError, isodate.ISO8601Error):
                raise _not_authorized() from None
            if moment.tzinfo is not None:
                moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
            if abs((moment - self.clock()).total_seconds()) > self.max_skew:
                raise _not_authorized()
        with self._lock:
            if nonce_text in self._nonces:
                raise _not_authorized()
            self._nonces.append(nonce_text)

    @staticmethod
    def check_ws_addressing(envelope: etree._Element, path: str) -> None:
        """Event calls need wsa:Action, wsa:MessageID and a wsa:To naming this endpoint."""
        header = envelope.find("env:Header", NS)
        values = {name: header.findtext(f"wsa:{name}", namespaces=NS) if header is not None
                  else None for name in ("Action", "MessageID", "To")}
        missing = sorted(name for name, value in values.items() if not (value or "").strip())
        if missing:
            raise SoapFault("env:Sender", ("wsa:MessageAddressingHeaderRequired",),
                            f"A required header representing a Message Addressing Property "
                            f"is not present: wsa:{missing[0]}")
        if urlsplit((values["To"] or "").strip()).path != path:
            raise SoapFault("env:Sender", ("wsa:DestinationUnreachable",),
                            "No route can be determined to reach wsa:To")

    # ---- SOAP operations ---------------------------------------------------
    def handle(self, path: str, base: str, envelope: etree._Element,
               digest_ok: bool = False) -> str:
        body = envelope.find("env:Body", NS)
        if body is None or len(body) == 0:
            raise SoapFault("env:Sender", ("ter:InvalidArgVal",), "Empty SOAP body")
        request = body[0]
        operation = etree.QName(request).localname
        routes: dict[str, Callable[[etree._Element, str], str]]
        subscription_id = None
        capabilities = self._get_service_capabilities
        if path == "/onvif/device_service":
            routes = {
                "GetSystemDateAndTime": self._get_system_date_and_time,
                "GetCapabilities": self._get_capabilities,
                "GetServices": self._get_services,
                "GetDeviceInformation": self._get_device_information,
                "GetScopes": self._get_scopes,
                "GetServiceCapabilities": capabilities,
            }
        elif path == "/onvif/media_service":
            routes = {"GetProfiles": self._get_profiles, "GetSnapshotUri": self._get_snapshot_uri,
                      "GetServiceCapabilities": capabilities}
        elif path == "/onvif/analytics_service":
            routes = {"GetServiceCapabilities": capabilities,
                      "GetSupportedAnalyticsModules": self._get_supported_modules,
                      "GetSupportedRules": self._get_supported_rules,
                      "GetRules": self._get_rules}
        elif path == "/onvif/events_service":
            routes = {
                "GetServiceCapabilities": capabilities,
                "GetEventProperties": self._get_event_properties,
                "CreatePullPointSubscription": self._create_pull_point,
            }
        elif path.startswith("/onvif/subscription/"):
            subscription_id = path.rsplit("/", 1)[1]
            routes = {"PullMessages": self._pull_messages, "Renew": self._renew,
                      "Unsubscribe": self._unsubscribe,
                      "SetSynchronizationPoint": self._set_synchronization_point}
        else:
            raise SoapFault("env:Sender", ("ter:InvalidArgVal",), f"No service at {path}",
                            status=404)
        if operation not in routes:
            raise SoapFault("env:Receiver", ("ter:ActionNotSupported",),
                            f"{operation} is not supported here")
        pre_auth = operation in PRE_AUTH and not (
            operation == "GetSystemDateAndTime" and self.time_needs_auth)
        if not pre_auth and not digest_ok:
            self.check_ws_security(envelope)
        if path.startswith(EVENT_PATHS):
            self.check_ws_addressing(envelope, path)
        self.requests.append(operation)
        if subscription_id is not None:
            return routes[operation](request, subscription_id)
        if operation == "GetServiceCapabilities":
            return capabilities(request, path)
        return routes[operation](request, base)

    def _get_system_date_and_time(self, _request: etree._Element, _base: str) -> str:
        utc = self.clock()
        local = utc.replace(tzinfo=dt.UTC).astimezone(self.scenario.timezone)

        def date_time(t: dt.datetime) -> str:
            return (f"<tt:Time><tt:Hour>{t.hour}</tt:Hour><tt:Minute>{t.minute}</tt:Minute>"
                    f"<tt:Second>{t.second}</tt:Second></tt:Time>"
                    f"<tt:Date><tt:Year>{t.year}</tt:Year><tt:Month>{t.month}</tt:Month>"
                    f"<tt:Day>{t.day}</tt:Day></tt:Date>")

        return (
            "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
            "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
            f"<tt:TimeZone><tt:TZ>{_posix_tz(local)}</tt:TZ></tt:TimeZone>"
            f"<tt:UTCDateTime>{date_time(utc)}</tt:UTCDateTime>"
            f"<tt:LocalDateTime>{date_time(local)}</tt:LocalDateTime>"
            "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
        )

    def _get_capabilities(self, _request: etree._Element, base: str) -> str:
        return (
            "<tds:GetCapabilitiesResponse><tds:Capabilities>"
            f"<tt:Analytics><tt:XAddr>{base}/onvif/analytics_service</tt:XAddr>"
            + _flags(RuleSupport=True, AnalyticsModuleSupport=True) + "</tt:Analytics>"
            f"<tt:Device><tt:XAddr>{base}/onvif/device_service</tt:XAddr>"
            "<tt:Network>"
            + _flags(IPFilter=False, ZeroConfiguration=False, IPVersion6=False, DynDNS=False)
            + "</tt:Network><tt:System>"
            + _flags(DiscoveryResolve=False, DiscoveryBye=False, RemoteDiscovery=False,
                     SystemBackup=False, SystemLogging=False, FirmwareUpgrade=False)
            + "<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor>"
            "</tt:SupportedVersions></tt:System></tt:Device>"
            f"<tt:Events><tt:XAddr>{base}/onvif/events_service</tt:XAddr>"
            + _flags(WSSubscriptionPolicySupport=False, WSPullPointSupport=True,
                     WSPausableSubscriptionManagerInterfaceSupport=False)
            + f"</tt:Events><tt:Media><tt:XAddr>{base}/onvif/media_service</tt:XAddr>"
            "<tt:StreamingCapabilities>"
            + _flags(RTPMulticast=False, RTP_TCP=True, RTP_RTSP_TCP=True)
            + "</tt:StreamingCapabilities></tt:Media>"
            "</tds:Capabilities></tds:GetCapabilitiesResponse>"
        )

    def _get_services(self, _request: etree._Element, base: str) -> str:
        services = (
            (NS["tds"], "/onvif/device_service", 2, 60),
            (NS["trt"], "/onvif/media_service", 2, 60),
            (NS["tev"], "/onvif/events_service", 2, 60),
            (NS["tan"], "/onvif/analytics_service", 2, 60),
        )
        return "<tds:GetServicesResponse>" + "".join(
            f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{base}{path}</tds:XAddr>"
            f"<tds:Version><tt:Major>{major}</tt:Major><tt:Minor>{minor}</tt:Minor></tds:Version>"
            "</tds:Service>"
            for ns, path, major, minor in services
        ) + "</tds:GetServicesResponse>"

    def _get_service_capabilities(self, _request: etree._Element, path: str) -> str:
        """Each service's own Capabilities element (ONVIF Core 8.1.2.x, Analytics 5.1)."""
        if path == "/onvif/device_service":
            return (
                "<tds:GetServiceCapabilitiesResponse><tds:Capabilities>"
                '<tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false"/>'
                '<tds:Security UsernameToken="true" HttpDigest="true"/>'
                '<tds:System DiscoveryResolve="false" DiscoveryBye="false" '
                'RemoteDiscovery="false"/>'
                "</tds:Capabilities></tds:GetServiceCapabilitiesResponse>"
            )
        if path == "/onvif/media_service":
            return (
                "<trt:GetServiceCapabilitiesResponse><trt:Capabilities SnapshotUri=\"true\">"
                '<trt:ProfileCapabilities MaximumNumberOfProfiles="1"/>'
                "<trt:StreamingCapabilities/>"
                "</trt:Capabilities></trt:GetServiceCapabilitiesResponse>"
            )
        if path == "/onvif/analytics_service":
            return (
                "<tan:GetServiceCapabilitiesResponse><tan:Capabilities RuleSupport=\"true\" "
                'AnalyticsModuleSupport="true" CellBasedSceneDescriptionSupported="false" '
                'RuleOptionsSupported="false" AnalyticsModuleOptionsSupported="false"/>'
                "</tan:GetServiceCapabilitiesResponse>"
            )
        return (
            "<tev:GetServiceCapabilitiesResponse><tev:Capabilities "
            'WSSubscriptionPolicySupport="false" WSPausableSubscriptionManagerInterfaceSupport='
            '"false" MaxNotificationProducers="0" MaxPullPoints="10" '
            'PersistentNotificationStorage="false"/></tev:GetServiceCapabilitiesResponse>'
        )

    def _get_device_information(self, _request: etree._Element, _base: str) -> str:
        return (
            "<tds:GetDeviceInformationResponse><tds:Manufacturer>hall-ops</tds:Manufacturer>"
            f"<tds:Model>Counting camera simulator ({self.role})</tds:Model>"
            "<tds:FirmwareVersion>1.0.0</tds:FirmwareVersion>"
            f"<tds:SerialNumber>{self.serial}</tds:SerialNumber>"
            "<tds:HardwareId>SIM-1</tds:HardwareId></tds:GetDeviceInformationResponse>"
        )

    def _get_scopes(self, _request: etree._Element, _base: str) -> str:
        scopes = ("onvif://www.onvif.org/Profile/Streaming", "onvif://www.onvif.org/Profile/M",
                  "onvif://www.onvif.org/hardware/SIM-1",
                  f"onvif://www.onvif.org/name/{self.name}")
        return "<tds:GetScopesResponse>" + "".join(
            f"<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>{escape(s)}"
            "</tt:ScopeItem></tds:Scopes>" for s in scopes
        ) + "</tds:GetScopesResponse>"

    def _get_profiles(self, _request: etree._Element, _base: str) -> str:
        return (
            '<trt:GetProfilesResponse><trt:Profiles token="Profile_1" fixed="true">'
            "<tt:Name>MainStream</tt:Name>"
            '<tt:VideoSourceConfiguration token="VideoSourceConfig_1">'
            "<tt:Name>VideoSource</tt:Name>"
            "<tt:UseCount>1</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken>"
            '<tt:Bounds x="0" y="0" width="1920" height="1080"/></tt:VideoSourceConfiguration>'
            '<tt:VideoEncoderConfiguration token="VideoEncoderConfig_1">'
            "<tt:Name>MainEncoder</tt:Name>"
            "<tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>"
            "<tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution>"
            "<tt:Quality>5</tt:Quality>"
            "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type>"
            "<tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>"
            "<tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart>"
            "</tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout>"
            "</tt:VideoEncoderConfiguration>"
            f'<tt:VideoAnalyticsConfiguration token="{ANALYTICS_CONFIG}">'
            "<tt:Name>Analytics</tt:Name><tt:UseCount>1</tt:UseCount>"
            "<tt:AnalyticsEngineConfiguration/><tt:RuleEngineConfiguration/>"
            "</tt:VideoAnalyticsConfiguration>"
            "</trt:Profiles></trt:GetProfilesResponse>"
        )

    def _get_snapshot_uri(self, request: etree._Element, base: str) -> str:
        token = request.findtext("trt:ProfileToken", namespaces=NS)
        if token != "Profile_1":
            raise SoapFault("env:Sender", ("ter:InvalidArgVal", "ter:NoProfile"),
                            f"No profile {token!r}")
        return (
            "<trt:GetSnapshotUriResponse><trt:MediaUri>"
            f"<tt:Uri>{base}/onvif/snapshot/{token}.png</tt:Uri>"
            "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
            "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>"
            "</trt:MediaUri></trt:GetSnapshotUriResponse>"
        )

    def _analytics_config(self, request: etree._Element) -> None:
        token = request.findtext("tan:ConfigurationToken", namespaces=NS)
        if token != ANALYTICS_CONFIG:
            raise SoapFault("env:Sender", ("ter:InvalidArgVal", "ter:NoConfig"),
                            f"No analytics configuration {token!r}")

    def _get_supported_modules(self, request: etree._Element, _base: str) -> str:
        self._analytics_config(request)
        return (
            "<tan:GetSupportedAnalyticsModulesResponse><tan:SupportedAnalyticsModules>"
            "<tt:AnalyticsModuleDescription Name=\"tt:ObjectDetection\"><tt:Parameters/>"
            "<tt:Messages IsProperty=\"false\"><tt:Source/><tt:ParentTopic>"
            "tns1:VideoAnalytics/ObjectDetection</tt:ParentTopic></tt:Messages>"
            "</tt:AnalyticsModuleDescription>"
            "</tan:SupportedAnalyticsModules></tan:GetSupportedAnalyticsModulesResponse>"
        )

    def _get_supported_rules(self, request: etree._Element, _base: str) -> str:
        self._analytics_config(request)
        kinds = (("tt:OccupancyCounting", OCCUPANCY_TOPIC), ("tt:LineCounting", LINE_COUNT_TOPIC))
        return "<tan:GetSupportedRulesResponse><tan:SupportedRules>" + "".join(
            f'<tt:RuleDescription Name="{kind}"><tt:Parameters/>'
            '<tt:Messages IsProperty="true"><tt:Source>'
            '<tt:SimpleItemDescription Name="VideoSource" Type="tt:ReferenceToken"/>'
            '<tt:SimpleItemDescription Name="Rule" Type="xs:string"/></tt:Source>'
            '<tt:Data><tt:SimpleItemDescription Name="Count" Type="xs:nonNegativeInteger"/>'
            f"</tt:Data><tt:ParentTopic>{topic}</tt:ParentTopic></tt:Messages>"
            "</tt:RuleDescription>" for kind, topic in kinds
        ) + "</tan:SupportedRules></tan:GetSupportedRulesResponse>"

    def _get_rules(self, request: etree._Element, _base: str) -> str:
        self._analytics_config(request)
        with self._lock:
            rules = list(self.rules)
        return "<tan:GetRulesResponse>" + "".join(
            f'<tan:Rule Name={quoteattr(r.name)} Type="{r.kind}"><tt:Parameters>'
            f'<tt:SimpleItem Name="VideoSource" Value={quoteattr(r.source)}/>'
            "</tt:Parameters></tan:Rule>" for r in rules
        ) + "</tan:GetRulesResponse>"

    def _get_event_properties(self, _request: etree._Element, _base: str) -> str:
        data = '<tt:SimpleItemDescription Name="Count" Type="xs:int"/>'
        source = ('<tt:SimpleItemDescription Name="VideoSource" Type="tt:ReferenceToken"/>'
                  '<tt:SimpleItemDescription Name="Rule" Type="xs:string"/>')
        with self._lock:
            leaves = sorted({r.topic.removeprefix("tns1:RuleEngine/CountAggregation/")
                             for r in self.rules if r.topic.startswith("tns1:RuleEngine/")})
        description = (f'<tt:MessageDescription IsProperty="true"><tt:Source>{source}</tt:Source>'
                       f"<tt:Data>{data}</tt:Data></tt:MessageDescription>")
        topics = "".join(f'<{leaf} wstop:topic="true">{description}</{leaf}>' for leaf in leaves)
        return (
            "<tev:GetEventPropertiesResponse>"
            "<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml"
            "</tev:TopicNamespaceLocation><wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>"
            '<wstop:TopicSet><tns1:RuleEngine wstop:topic="false">'
            f'<CountAggregation wstop:topic="false">{topics}</CountAggregation>'
            "</tns1:RuleEngine></wstop:TopicSet>"
            f"<wsnt:TopicExpressionDialect>{TOPIC_DIALECT}</wsnt:TopicExpressionDialect>"
            "<tev:MessageContentFilterDialect>"
            "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"
            "</tev:MessageContentFilterDialect>"
            "<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd"
            "</tev:MessageContentSchemaLocation></tev:GetEventPropertiesResponse>"
        )

    def _termination(self, text: str | None, now: dt.datetime) -> dt.datetime:
        """wsnt:AbsoluteOrRelativeTimeType: a duration from now or a UTC date-time."""
        if not text or not text.strip():
            return now + DEFAULT_SUBSCRIPTION
        text = text.strip()
        try:
            if text.startswith(("P", "-P")):
                duration = isodate.parse_duration(text)
                if not isinstance(duration, dt.timedelta) or duration <= dt.timedelta(0):
                    raise ValueError(text)
                return now + duration
            moment = isodate.parse_datetime(text)
        except (ValueError, isodate.ISO8601Error):
            raise SoapFault("env:Sender", ("wsnt:UnacceptableInitialTerminationTimeFault",),
                            f"Cannot read termination time {text!r}") from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        if moment <= now:
            raise SoapFault("env:Sender", ("wsnt:UnacceptableTerminationTimeFault",),
                            "Termination time is in the past")
        return moment

    def _create_pull_point(self, request: etree._Element, base: str) -> str:
        now = self.clock()
        expires = self._termination(
            request.findtext("tev:InitialTerminationTime", namespaces=NS), now
        )
        subscription = Subscription(secrets.token_hex(8), expires)
        with self._lock:
            self._expire(now)
            self.subscriptions[subscription.id] = subscription
        return (
            "<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
            f"<wsa:Address>{base}/onvif/subscription/{subscription.id}</wsa:Address>"
            f"</tev:SubscriptionReference><wsnt:CurrentTime>{_iso(now)}</wsnt:CurrentTime>"
            f"<wsnt:TerminationTime>{_iso(expires)}</wsnt:TerminationTime>"
            "</tev:CreatePullPointSubscriptionResponse>"
        )

    def _expire(self, now: dt.datetime) -> None:
        for key in [k for k, s in self.subscriptions.items() if s.expires <= now]:
            del self.subscriptions[key]

    def _subscription(self, subscription_id: str, now: dt.datetime) -> Subscription:
        with self._lock:
            self._expire(now)
            subscription = self.subscriptions.get(subscription_id)
        if subscription is None:
            raise SoapFault(
                "env:Sender", ("wsrf-rw:ResourceUnknownFault",),
                f"Subscription {subscription_id} does not exist (expired or never created)",
            )
        return subscription

    @staticmethod
    def _message(rule: Rule, value: str, now: dt.datetime, operation: str) -> str:
        return (
            "<wsnt:NotificationMessage>"
            f'<wsnt:Topic Dialect="{TOPIC_DIALECT}">{rule.topic}</wsnt:Topic>'
            f'<wsnt:Message><tt:Message UtcTime="{_iso(now)}" PropertyOperation="{operation}">'
            f'<tt:Source><tt:SimpleItem Name="VideoSource" Value={quoteattr(rule.source)}/>'
            f"<tt:SimpleItem Name=\"Rule\" Value={quoteattr(rule.name)}/></tt:Source>"
            f"<tt:Data><tt:SimpleItem Name={quoteattr(rule.item)} Value={quoteattr(value)}/>"
            "</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>"
        )

    def _messages(self, subscription: Subscription, now: dt.datetime, limit: int) -> list[str]:
        out = [self._message(rule, "0", now, "Deleted") for rule in subscription.deleted]
        subscription.deleted.clear()
        for rule in self.rules:
            value = rule.text(now)
            before = subscription.reported.get(rule.key())
            if before == value or len(out) >= limit:
                continue
            subscription.reported[rule.key()] = value
            out.append(self._message(rule, value, now,
                                     "Initialized" if before is None else "Changed"))
        return out

    def _pull_messages(self, request: etree._Element, subscription_id: str) -> str:
        timeout_text = request.findtext("tev:Timeout", namespaces=NS) or "PT0S"
        try:
            wait = isodate.parse_duration(timeout_text).total_seconds()
            limit = int(request.findtext("tev:MessageLimit", namespaces=NS) or 100)
        except (ValueError, AttributeError, isodate.ISO8601Error):
            raise SoapFault("env:Sender", ("ter:InvalidArgVal",),
                            "Timeout must be a duration and MessageLimit a number") from None
        if self.garble == "fault":
            raise SoapFault("env:Receiver", ("ter:Action",), "Internal error pulling messages")
        deadline = time.monotonic() + min(max(wait, 0.0), MAX_PULL_WAIT)
        while True:
            now = self.clock()
            subscription = self._subscription(subscription_id, now)
            with self._lock:
                messages = self._messages(subscription, now, limit)
            if messages or time.monotonic() >= deadline or self._stopping.wait(0.2):
                break
        times = "" if self.garble == "no-times" else (
            f"<tev:CurrentTime>{_iso(now)}</tev:CurrentTime>"
            f"<tev:TerminationTime>{_iso(subscription.expires)}</tev:TerminationTime>")
        return f"<tev:PullMessagesResponse>{times}" + "".join(messages) + \
            "</tev:PullMessagesResponse>"

    def _set_synchronization_point(self, _request: etree._Element, subscription_id: str) -> str:
        """Every property's current value is sent again, as Initialized, on the next pull."""
        subscription = self._subscription(subscription_id, self.clock())
        with self._lock:
            subscription.reported.clear()
        return "<tev:SetSynchronizationPointResponse/>"

    def _renew(self, request: etree._Element, subscription_id: str) -> str:
        now = self.clock()
        subscription = self._subscription(subscription_id, now)
        expires = self._termination(request.findtext("wsnt:TerminationTime", namespaces=NS), now)
        with self._lock:
            subscription.expires = expires
        return (
            f"<wsnt:RenewResponse><wsnt:TerminationTime>{_iso(subscription.expires)}"
            f"</wsnt:TerminationTime><wsnt:CurrentTime>{_iso(now)}</wsnt:CurrentTime>"
            "</wsnt:RenewResponse>"
        )

    def _unsubscribe(self, _request: etree._Element, subscription_id: str) -> str:
        self._subscription(subscription_id, self.clock())
        with self._lock:
            self.subscriptions.pop(subscription_id, None)
        return "<wsnt:UnsubscribeResponse/>"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a slow answer is expected, not an error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    sim: CameraSimulator
    server_version = "onvif-sim/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a camera does not print a line per request."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header from the camera's own clock, as a camera sends it."""
        return email.utils.format_datetime(self.sim.clock().replace(tzinfo=dt.UTC), usegmt=True)

    def _stall(self) -> bool:
        """Apply the failure switch; True if the request must go unanswered."""
        if self.sim.fail == "drop":
            self.close_connection = True
            return True
        if self.sim.fail == "slow":
            self.sim._stopping.wait(self.sim.slow_seconds)
        return False

    def _base(self) -> str:
        # ONVIF: XAddrs use the scheme and address the client used to reach us,
        # unless the camera is told to advertise another one (NAT, second interface).
        host = self.sim.advertise or self.headers.get("Host") or \
            f"{self.sim.host}:{self.sim.port}"
        return f"http://{host}"

    def _challenge(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", self.sim.digest.challenge())
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        if self._stall():
            return
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length)
        path = urlsplit(self.path).path
        authorization = self.headers.get("Authorization")
        digest_ok = self.sim.digest.check("POST", authorization)
        try:
            try:
                envelope = etree.fromstring(payload, _PARSER)
            except etree.XMLSyntaxError:
                raise SoapFault("env:Sender", ("ter:WellFormed",),
                                "Request is not XML") from None
            if envelope.tag != f"{{{NS['env']}}}Envelope":
                raise SoapFault("env:VersionMismatch", (), "Expected a SOAP 1.2 envelope")
            status, body = 200, self.sim.handle(path, self._base(), envelope, digest_ok)
        except SoapFault as fault:
            if self.sim.http_digest and "ter:NotAuthorized" in fault.subcodes:
                self._challenge()
                return
            status, body = fault.status, fault.xml()
        document = (f'<?xml version="1.0" encoding="UTF-8"?><env:Envelope {_XMLNS}>'
                    f"<env:Body>{body}</env:Body></env:Envelope>").encode()
        if status == 200 and self.sim.garble == "truncated" and "PullMessagesResponse" in body:
            document = document[: len(document) // 2]
        self.send_response(status)
        self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(document)))
        self.end_headers()
        self.wfile.write(document)

    def do_GET(self) -> None:
        if self._stall():
            return
        if urlsplit(self.path).path != "/onvif/snapshot/Profile_1.png":
            self.send_error(404)
            return
        if not self.sim.digest.check("GET", self.headers.get("Authorization")):
            self._challenge()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.sim.snapshot)))
        self.end_headers()
        self.wfile.write(self.sim.snapshot)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Simulated ONVIF people-counting camera")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--zone", required=True, help="zone code the camera watches")
    parser.add_argument("--role", choices=ROLES, default="occupancy")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--capacity", type=int, help="people in the zone at its busiest")
    parser.add_argument("--timezone", default="Asia/Shanghai", help="the hall's time zone")
    parser.add_argument("--offset-minutes", type=float, default=0.0,
                        help="shift the camera's clock, e.g. to show the morning peak at night")
    args = parser.parse_args(argv)
    offset = dt.timedelta(minutes=args.offset_minutes)
    sim = CameraSimulator(
        args.zone, user=args.user, password=args.password, role=args.role, host=args.host,
        port=args.port, capacity=args.capacity, timezone=args.timezone,
        clock=lambda: system_clock() + offset,
    )
    with sim:
        print(f"ONVIF {args.role} camera for zone {args.zone} at {sim.device_url()} (Ctrl-C stops)",
              flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
