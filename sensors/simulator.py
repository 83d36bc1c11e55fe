"""An ONVIF people-counting camera on loopback, for demos and tests.

(Over 500 lines on purpose: one device, its SOAP envelopes and WS-Security
checks, kept in one file as the single stand-in camera of demos and tests.)

A real SOAP 1.2 server answering the operations a counting client needs:

* device service: GetSystemDateAndTime, GetCapabilities, GetServices (these
  three without credentials, as ONVIF's PRE_AUTH access class allows) and
  GetDeviceInformation;
* media service: GetProfiles, GetSnapshotUri, and the snapshot itself (a small
  PNG behind HTTP digest authentication, as cameras serve it);
* events service: GetEventProperties, CreatePullPointSubscription, and on the
  subscription's own address PullMessages, Renew and Unsubscribe.

Every other call must carry a WS-Security UsernameToken with a PasswordDigest
(Base64(SHA1(nonce + created + password))); a wrong one gets the SOAP fault
``env:Sender / ter:NotAuthorized`` with HTTP 400, and a replayed nonce is refused.
The token's creation time is not compared with the camera's clock, so a test
may move that clock freely.

Counts follow the ONVIF Analytics Service specification (the rules Profile M
devices provide), driven by :class:`sensors.scenario.CrowdScenario`:

* role ``occupancy``: an OccupancyCounting rule, topic
  ``tns1:RuleEngine/CountAggregation/OccupancyCounter``, Data ``Count`` =
  people inside now;
* role ``entrance``: two LineCounting rules ("In" and "Out", one per
  direction), topic ``tns1:RuleEngine/CountAggregation/Counter``, Data
  ``Count`` = crossings since the daily reset at local midnight.

Both are property events: a new subscription first gets ``Initialized``
messages with the current values, then ``Changed`` messages when they move.

For tests: ``clock`` replaces the camera's time (scenario, message times and
subscription expiry), ``fail = "drop"`` makes it hang up without answering,
``fail = "slow"`` makes it answer only after ``slow_seconds``, ``reboot()``
forgets every subscription. Run standalone with::

    python -m sensors.simulator --port 8081 --zone front_intake --user admin --password x
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
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

from sensors.scenario import CrowdScenario

Clock = Callable[[], dt.datetime]

NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wstop": "http://docs.oasis-open.org/wsn/t-1",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "tns1": "http://www.onvif.org/ver10/topics",
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
PRE_AUTH = {"GetSystemDateAndTime", "GetCapabilities", "GetServices"}
DEFAULT_SUBSCRIPTION = dt.timedelta(seconds=60)
MAX_PULL_WAIT = 10.0
"""Longest a PullMessages call waits for news, whatever Timeout the client asks for."""

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _iso(utc: dt.datetime) -> str:
    return utc.replace(microsecond=0).isoformat() + "Z"


class SoapFault(Exception):
    """A fault to send back: HTTP status, env code, ONVIF subcodes and reason."""

    def __init__(self, status: int, code: str, subcodes: tuple[str, ...], reason: str) -> None:
        super().__init__(reason)
        self.status, self.code, self.subcodes, self.reason = status, code, subcodes, reason

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
    return SoapFault(400, "env:Sender", ("ter:NotAuthorized",), "Sender not Authorized")


@dataclass
class Subscription:
    id: str
    expires: dt.datetime
    reported: dict[str, int] = field(default_factory=dict)
    """Last value sent per rule: a message goes out only when it changes."""


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
    ) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        self.zone, self.user, self.password, self.role = zone, user, password, role
        self.host, self.requested_port = host, port
        self.clock = clock
        self.name = name or f"sim-{zone}-{role}"
        self.scenario = CrowdScenario.for_zone(zone, ZoneInfo(timezone), capacity)
        self.serial = hashlib.sha1(f"{self.name}|{zone}|{role}".encode()).hexdigest()[:12].upper()
        self.slow_seconds = 10.0
        self.snapshot = _png(64, 48)
        self.subscriptions: dict[str, Subscription] = {}
        self.requests: deque[str] = deque(maxlen=200)
        """Operations answered, newest last: lets a test see what a client did."""
        self._fail: str | None = None
        self._lock = threading.Lock()
        self._nonces: deque[str] = deque(maxlen=1000)
        self._digest_nonces: deque[str] = deque(maxlen=100)
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

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

    def start(self) -> CameraSimulator:
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

    def device_url(self) -> str:
        return f"http://{self.host}:{self.port}/onvif/device_service"

    # ---- what the camera measures -----------------------------------------
    def counts(self, utc: dt.datetime) -> dict[str, tuple[str, int]]:
        """Rule name → (topic, Count) as the camera's rules report them at ``utc``."""
        if self.role == "occupancy":
            return {"Occupancy": (OCCUPANCY_TOPIC, self.scenario.present(utc))}
        entered, left = self.scenario.crossings(utc)
        return {"In": (LINE_COUNT_TOPIC, entered), "Out": (LINE_COUNT_TOPIC, left)}

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
        with self._lock:
            if nonce_text in self._nonces:
                raise _not_authorized()
            self._nonces.append(nonce_text)

    def new_digest_nonce(self) -> str:
        nonce = secrets.token_hex(16)
        with self._lock:
            self._digest_nonces.append(nonce)
        return nonce

    def check_http_digest(self, method: str, header: str | None) -> bool:
        """RFC 7616 digest (MD5, qop=auth) for the snapshot URL."""
        if not header or not header.startswith("Digest "):
            return False
        params: dict[str, str] = {}
        for part in _split_header(header[len("Digest "):]):
            key, _, value = part.partition("=")
            params[key.strip()] = value.strip().strip('"')
        with self._lock:
            known = params.get("nonce") in self._digest_nonces
        if not known or params.get("username") != self.user or params.get("qop") != "auth":
            return False
        ha1 = hashlib.md5(f"{self.user}:{params.get('realm')}:{self.password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"{method}:{params.get('uri')}".encode()).hexdigest()
        expected = hashlib.md5(
            f"{ha1}:{params['nonce']}:{params.get('nc')}:{params.get('cnonce')}:auth:{ha2}".encode()
        ).hexdigest()
        return hmac.compare_digest(expected, params.get("response", ""))

    # ---- SOAP operations ---------------------------------------------------
    def handle(self, path: str, base: str, envelope: etree._Element) -> str:
        body = envelope.find("env:Body", NS)
        if body is None or len(body) == 0:
            raise SoapFault(400, "env:Sender", ("ter:InvalidArgVal",), "Empty SOAP body")
        request = body[0]
        operation = etree.QName(request).localname
        routes: dict[str, Callable[[etree._Element, str], str]]
        subscription_id = None
        if path == "/onvif/device_service":
            routes = {
                "GetSystemDateAndTime": self._get_system_date_and_time,
                "GetCapabilities": self._get_capabilities,
                "GetServices": self._get_services,
                "GetDeviceInformation": self._get_device_information,
            }
        elif path == "/onvif/media_service":
            routes = {"GetProfiles": self._get_profiles, "GetSnapshotUri": self._get_snapshot_uri}
        elif path == "/onvif/events_service":
            routes = {
                "GetEventProperties": self._get_event_properties,
                "CreatePullPointSubscription": self._create_pull_point,
            }
        elif path.startswith("/onvif/subscription/"):
            subscription_id = path.rsplit("/", 1)[1]
            routes = {"PullMessages": self._pull_messages, "Renew": self._renew,
                      "Unsubscribe": self._unsubscribe}
        else:
            raise SoapFault(404, "env:Sender", ("ter:InvalidArgVal",), f"No service at {path}")
        if operation not in routes:
            raise SoapFault(400, "env:Receiver", ("ter:ActionNotSupported",),
                            f"{operation} is not supported here")
        if operation not in PRE_AUTH:
            self.check_ws_security(envelope)
        self.requests.append(operation)
        if subscription_id is not None:
            return routes[operation](request, subscription_id)
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
        )
        return "<tds:GetServicesResponse>" + "".join(
            f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{base}{path}</tds:XAddr>"
            f"<tds:Version><tt:Major>{major}</tt:Major><tt:Minor>{minor}</tt:Minor></tds:Version>"
            "</tds:Service>"
            for ns, path, major, minor in services
        ) + "</tds:GetServicesResponse>"

    def _get_device_information(self, _request: etree._Element, _base: str) -> str:
        return (
            "<tds:GetDeviceInformationResponse><tds:Manufacturer>hall-ops</tds:Manufacturer>"
            f"<tds:Model>Counting camera simulator ({self.role})</tds:Model>"
            "<tds:FirmwareVersion>1.0.0</tds:FirmwareVersion>"
            f"<tds:SerialNumber>{self.serial}</tds:SerialNumber>"
            "<tds:HardwareId>SIM-1</tds:HardwareId></tds:GetDeviceInformationResponse>"
        )

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
            "</trt:Profiles></trt:GetProfilesResponse>"
        )

    def _get_snapshot_uri(self, request: etree._Element, base: str) -> str:
        token = request.findtext("trt:ProfileToken", namespaces=NS)
        if token != "Profile_1":
            raise SoapFault(400, "env:Sender", ("ter:InvalidArgVal", "ter:NoProfile"),
                            f"No profile {token!r}")
        return (
            "<trt:GetSnapshotUriResponse><trt:MediaUri>"
            f"<tt:Uri>{base}/onvif/snapshot/{token}.png</tt:Uri>"
            "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
            "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>"
            "</trt:MediaUri></trt:GetSnapshotUriResponse>"
        )

    def _get_event_properties(self, _request: etree._Element, _base: str) -> str:
        data = '<tt:SimpleItemDescription Name="Count" Type="xs:int"/>'
        source = ('<tt:SimpleItemDescription Name="VideoSource" Type="tt:ReferenceToken"/>'
                  '<tt:SimpleItemDescription Name="Rule" Type="xs:string"/>')
        topic = "OccupancyCounter" if self.role == "occupancy" else "Counter"
        return (
            "<tev:GetEventPropertiesResponse>"
            "<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml"
            "</tev:TopicNamespaceLocation><wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>"
            '<wstop:TopicSet><tns1:RuleEngine wstop:topic="false">'
            '<CountAggregation wstop:topic="false">'
            f'<{topic} wstop:topic="true"><tt:MessageDescription IsProperty="true">'
            f"<tt:Source>{source}</tt:Source><tt:Data>{data}</tt:Data></tt:MessageDescription>"
            f"</{topic}></CountAggregation></tns1:RuleEngine></wstop:TopicSet>"
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
            raise SoapFault(400, "env:Sender", ("wsnt:UnacceptableInitialTerminationTimeFault",),
                            f"Cannot read termination time {text!r}") from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        if moment <= now:
            raise SoapFault(400, "env:Sender", ("wsnt:UnacceptableTerminationTimeFault",),
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
                400, "env:Sender", ("wsrf-rw:ResourceUnknownFault",),
                f"Subscription {subscription_id} does not exist (expired or never created)",
            )
        return subscription

    def _messages(self, subscription: Subscription, now: dt.datetime, limit: int) -> list[str]:
        out: list[str] = []
        for rule, (topic, count) in self.counts(now).items():
            before = subscription.reported.get(rule)
            if before == count or len(out) >= limit:
                continue
            subscription.reported[rule] = count
            operation = "Initialized" if before is None else "Changed"
            out.append(
                "<wsnt:NotificationMessage>"
                f'<wsnt:Topic Dialect="{TOPIC_DIALECT}">{topic}</wsnt:Topic>'
                f'<wsnt:Message><tt:Message UtcTime="{_iso(now)}" PropertyOperation="{operation}">'
                '<tt:Source><tt:SimpleItem Name="VideoSource" Value="VideoSource_1"/>'
                f"<tt:SimpleItem Name=\"Rule\" Value={quoteattr(rule)}/></tt:Source>"
                f'<tt:Data><tt:SimpleItem Name="Count" Value="{count}"/></tt:Data>'
                "</tt:Message></wsnt:Message></wsnt:NotificationMessage>"
            )
        return out

    def _pull_messages(self, request: etree._Element, subscription_id: str) -> str:
        timeout_text = request.findtext("tev:Timeout", namespaces=NS) or "PT0S"
        try:
            wait = isodate.parse_duration(timeout_text).total_seconds()
            limit = int(request.findtext("tev:MessageLimit", namespaces=NS) or 100)
        except (ValueError, AttributeError, isodate.ISO8601Error):
            raise SoapFault(400, "env:Sender", ("ter:InvalidArgVal",),
                            "Timeout must be a duration and MessageLimit a number") from None
        deadline = time.monotonic() + min(max(wait, 0.0), MAX_PULL_WAIT)
        while True:
            now = self.clock()
            subscription = self._subscription(subscription_id, now)
            with self._lock:
                messages = self._messages(subscription, now, limit)
            if messages or time.monotonic() >= deadline or self._stopping.wait(0.2):
                break
        return (
            f"<tev:PullMessagesResponse><tev:CurrentTime>{_iso(now)}</tev:CurrentTime>"
            f"<tev:TerminationTime>{_iso(subscription.expires)}</tev:TerminationTime>"
            + "".join(messages) + "</tev:PullMessagesResponse>"
        )

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


def _split_header(value: str) -> list[str]:
    """Split a digest header's comma list, leaving commas inside quotes alone."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


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

    def _stall(self) -> bool:
        """Apply the failure switch; True if the request must go unanswered."""
        if self.sim.fail == "drop":
            self.close_connection = True
            return True
        if self.sim.fail == "slow":
            self.sim._stopping.wait(self.sim.slow_seconds)
        return False

    def _base(self) -> str:
        # ONVIF: XAddrs use the scheme and address the client used to reach us.
        host = self.headers.get("Host") or f"{self.sim.host}:{self.sim.port}"
        return f"http://{host}"

    def do_POST(self) -> None:
        if self._stall():
            return
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length)
        path = urlsplit(self.path).path
        try:
            try:
                envelope = etree.fromstring(payload, _PARSER)
            except etree.XMLSyntaxError:
                raise SoapFault(400, "env:Sender", ("ter:WellFormed",),
                                "Request is not XML") from None
            if envelope.tag != f"{{{NS['env']}}}Envelope":
                raise SoapFault(400, "env:VersionMismatch", (), "Expected a SOAP 1.2 envelope")
            status, body = 200, self.sim.handle(path, self._base(), envelope)
        except SoapFault as fault:
            status, body = fault.status, fault.xml()
        document = (f'<?xml version="1.0" encoding="UTF-8"?><env:Envelope {_XMLNS}>'
                    f"<env:Body>{body}</env:Body></env:Envelope>").encode()
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
        if not self.sim.check_http_digest("GET", self.headers.get("Authorization")):
            self.send_response(401)
            self.send_header(
                "WWW-Authenticate",
                f'Digest realm="{self.sim.name}", qop="auth", algorithm=MD5, '
                f'nonce="{self.sim.new_digest_nonce()}"',
            )
            self.send_header("Content-Length", "0")
            self.end_headers()
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
