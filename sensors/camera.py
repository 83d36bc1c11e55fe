"""Talking to one people-counting camera with the onvif-zeep client.

The session keeps one pull-point subscription alive between polls: each
``read_counts()`` pulls the messages queued since the last one, renews the
subscription when less than half its time is left, and creates a new one when
the camera has forgotten it (expired, or the camera restarted). The counts are
property events, so a fresh subscription starts with the current values and
nothing is lost by recreating it.

Errors come out as three exceptions with a sentence a hall manager can act
on: :class:`CameraUnreachable`, :class:`CameraUnauthorized` and
:class:`CameraProtocolError` (all :class:`CameraError`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import onvif
import requests
from lxml import etree
from onvif import ONVIFCamera, ONVIFError, ONVIFService
from requests.auth import HTTPDigestAuth
from zeep.exceptions import Fault, TransportError, XMLSyntaxError
from zeep.plugins import HistoryPlugin
from zeep.transports import Transport

from sensors.config import CameraConfig

log = logging.getLogger(__name__)

WSDL_DIR = Path(onvif.__file__).resolve().parent.parent / "wsdl"
"""onvif-zeep 0.2.12 installs its WSDL files as a top-level ``wsdl`` folder in
site-packages, next to the ``onvif`` package (not inside it)."""

EVENTS_NS = "http://www.onvif.org/ver10/events/wsdl"
PULLPOINT_BINDING = f"{{{EVENTS_NS}}}PullPointSubscriptionBinding"
SUBSCRIPTION_MANAGER_BINDING = f"{{{EVENTS_NS}}}SubscriptionManagerBinding"
EAGER_PULLPOINT_KEY = f"{EVENTS_NS}/PullPointSubscription"
"""Where ONVIFCamera leaves the subscription it creates while connecting."""

OCCUPANCY_TOPIC = "tns1:RuleEngine/CountAggregation/OccupancyCounter"
LINE_COUNT_TOPIC = "tns1:RuleEngine/CountAggregation/Counter"
TOPICS_NS = "http://www.onvif.org/ver10/topics"
_XML_NS = {
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "tt": "http://www.onvif.org/ver10/schema",
}

T = TypeVar("T")


class CameraError(Exception):
    """Something went wrong with a camera; the message names the camera."""


class CameraUnreachable(CameraError):
    """No answer: wrong address, camera off, network down, or too slow."""


class CameraUnauthorized(CameraError):
    """The camera refused the configured user name and password."""


class CameraProtocolError(CameraError):
    """The camera answered, but not with what a counting camera should."""


@dataclass(frozen=True)
class DeviceInfo:
    manufacturer: str
    model: str
    firmware: str
    serial: str
    hardware_id: str


@dataclass(frozen=True)
class MediaProfile:
    token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None


@dataclass(frozen=True)
class CountEvent:
    """One counting notification: which rule said what, when (naive UTC)."""

    topic: str
    rule: str
    count: int
    at: dt.datetime
    operation: str | None


@dataclass(frozen=True)
class Counts:
    """What a camera says now: people present, and for door counters the crossings today."""

    present: int | None
    entered: int | None = None
    exited: int | None = None
    at: dt.datetime | None = None


def _naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _topic_name(element: etree._Element) -> str:
    """The topic as ``tns1:…`` whatever prefix the camera bound to the topic namespace."""
    text = (element.text or "").strip()
    prefix, sep, rest = text.partition(":")
    if sep and element.nsmap.get(prefix) == TOPICS_NS:
        return f"tns1:{rest}"
    return text


def _items(message: etree._Element, part: str) -> dict[str | None, str | None]:
    return {i.get("Name"): i.get("Value")
            for i in message.iterfind(f"tt:{part}/tt:SimpleItem", _XML_NS)}


def parse_notifications(envelope: etree._Element) -> list[CountEvent]:
    """Counting events in a PullMessagesResponse envelope; other topics are skipped.

    Read from the raw envelope: zeep drops the text of wsnt:Topic (its type has
    mixed content), and the topic is what tells occupancy from line counts.
    """
    events = []
    for holder in envelope.iterfind(".//wsnt:NotificationMessage", _XML_NS):
        topic_el = holder.find("wsnt:Topic", _XML_NS)
        message = holder.find("wsnt:Message/tt:Message", _XML_NS)
        if topic_el is None or message is None:
            continue
        topic = _topic_name(topic_el)
        if topic not in (OCCUPANCY_TOPIC, LINE_COUNT_TOPIC):
            continue
        source = _items(message, "Source")
        data = _items(message, "Data")
        try:
            count = int(data["Count"] or "")
            stamp = message.get("UtcTime", "").replace("Z", "+00:00")
            at = _naive_utc(dt.datetime.fromisoformat(stamp))
        except (KeyError, TypeError, ValueError):
            log.warning("skipping a %s message without a readable Count/UtcTime", topic)
            continue
        events.append(CountEvent(topic, source.get("Rule") or "", count, at,
                                 message.get("PropertyOperation")))
    return events


def _root_cause(exc: BaseException) -> BaseException:
    """onvif-zeep wraps every error in ONVIFError; the original is its context."""
    seen = exc
    while isinstance(seen, ONVIFError) and (seen.__cause__ or seen.__context__) is not None:
        seen = seen.__cause__ or seen.__context__
    return seen


def _is_not_authorized(cause: BaseException) -> bool:
    if isinstance(cause, Fault):
        subcodes = [etree.QName(s).localname if not isinstance(s, str) else s.rsplit(":", 1)[-1]
                    for s in cause.subcodes or []]
        text = f"{cause.message} {cause.code}".lower()
        return "NotAuthorized" in subcodes or "not authorized" in text or "notauthorized" in text
    return isinstance(cause, TransportError) and cause.status_code == 401


class OnvifCounter:
    """A session with one counting camera (not thread-safe: one poller at a time)."""

    def __init__(
        self,
        config: CameraConfig,
        *,
        timeout: float = 5.0,
        subscription_seconds: int = 300,
        wsdl_dir: Path = WSDL_DIR,
    ) -> None:
        if not (wsdl_dir / "devicemgmt.wsdl").is_file():
            raise CameraProtocolError(f"ONVIF WSDL files not found in {wsdl_dir}")
        self.config = config
        self.timeout = timeout
        self.subscription_seconds = subscription_seconds
        self.wsdl_dir = wsdl_dir
        self.device: ONVIFCamera | None = None
        self.subscription_address: str | None = None
        self.subscription_left: dt.timedelta | None = None
        """Time the subscription had left at the camera's last answer (camera clock)."""
        self._pullpoint: ONVIFService | None = None
        self._manager: ONVIFService | None = None
        self._history = HistoryPlugin(maxlen=1)
        self._latest: dict[str, CountEvent] = {}

    @property
    def label(self) -> str:
        return f"camera {self.config.name} ({self.config.host}:{self.config.port})"

    # ---- error translation ------------------------------------------------
    def _call(self, what: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except (ONVIFError, Fault, TransportError, XMLSyntaxError,
                requests.RequestException) as exc:
            cause = _root_cause(exc)
            if _is_not_authorized(cause):
                raise CameraUnauthorized(
                    f"{self.label} rejected the user name or password"
                ) from None
            if isinstance(cause, requests.Timeout):
                raise CameraUnreachable(
                    f"{self.label} did not answer {what} within {self.timeout:g} s"
                ) from None
            if isinstance(cause, (requests.ConnectionError, OSError)):
                raise CameraUnreachable(f"{self.label} is unreachable ({what}): {cause}") from None
            if isinstance(cause, Fault):
                raise CameraProtocolError(
                    f"{self.label} refused {what}: {cause.message}"
                ) from cause
            raise CameraProtocolError(
                f"{self.label} gave an unusable answer to {what}: {cause}"
            ) from cause

    # ---- device and media -------------------------------------------------
    def connect(self) -> DeviceInfo:
        """Reach the device service, learn its service addresses, check the credentials."""
        transport = Transport(timeout=self.timeout, operation_timeout=self.timeout)
        # adjust_time: sign requests with the camera's own clock (read with the
        # unauthenticated GetSystemDateAndTime), since cameras refuse tokens
        # whose creation time is far from theirs and their clocks drift.
        self.device = self._call("GetCapabilities", lambda: ONVIFCamera(
            self.config.host, self.config.port, self.config.user, self.config.password,
            wsdl_dir=str(self.wsdl_dir), no_cache=True, adjust_time=True, transport=transport,
        ))
        self._pullpoint = self._manager = None
        self.subscription_address = self.device.xaddrs.get(EAGER_PULLPOINT_KEY)
        return self.device_information()

    def _device(self) -> ONVIFCamera:
        if self.device is None:
            self.connect()
        assert self.device is not None
        return self.device

    def _service(self, name: str) -> ONVIFService:
        """The device's media or events service client, created on first use."""
        device = self._device()
        existing = getattr(device, name, None)
        if existing is not None:
            return existing
        create = getattr(device, f"create_{name}_service")
        return self._call(f"connecting to the {name} service", create)

    def device_information(self) -> DeviceInfo:
        info = self._call("GetDeviceInformation", self._device().devicemgmt.GetDeviceInformation)
        return DeviceInfo(info.Manufacturer, info.Model, info.FirmwareVersion, info.SerialNumber,
                          info.HardwareId)

    def capabilities(self) -> dict[str, str]:
        """Service category (Device, Events, Media …) → its address, from GetCapabilities."""
        device = self._device()
        caps = self._call("GetCapabilities",
                          lambda: device.devicemgmt.GetCapabilities({"Category": "All"}))
        return {name: caps[name].XAddr for name in caps
                if caps[name] is not None and getattr(caps[name], "XAddr", None)}

    def services(self) -> dict[str, str]:
        """Service namespace → address, from GetServices."""
        device = self._device()
        services = self._call("GetServices",
                              lambda: device.devicemgmt.GetServices({"IncludeCapability": False}))
        return {s.Namespace: s.XAddr for s in services}

    def profiles(self) -> list[MediaProfile]:
        out = []
        for p in self._call("GetProfiles", self._service("media").GetProfiles):
            encoder = p.VideoEncoderConfiguration
            resolution = encoder.Resolution if encoder is not None else None
            out.append(MediaProfile(
                token=p.token, name=p.Name,
                encoding=encoder.Encoding if encoder is not None else None,
                width=resolution.Width if resolution is not None else None,
                height=resolution.Height if resolution is not None else None,
            ))
        return out

    def snapshot_uri(self, profile_token: str) -> str:
        media = self._service("media")
        reply = self._call("GetSnapshotUri",
                           lambda: media.GetSnapshotUri({"ProfileToken": profile_token}))
        return reply.Uri

    def snapshot(self, profile_token: str | None = None) -> tuple[str, bytes]:
        """(content type, image bytes) of a still from the given or first profile."""
        token = profile_token or self.profiles()[0].token
        uri = self.snapshot_uri(token)
        response = self._call("the snapshot download", lambda: requests.get(
            uri, auth=HTTPDigestAuth(self.config.user, self.config.password), timeout=self.timeout,
        ))
        if response.status_code == 401:
            raise CameraUnauthorized(f"{self.label} rejected the user name or password")
        if response.status_code != 200 or not response.content:
            raise CameraProtocolError(
                f"{self.label} answered the snapshot with HTTP {response.status_code}"
            )
        return response.headers.get("Content-Type", "application/octet-stream"), response.content

    # ---- events -----------------------------------------------------------
    def _subscription_service(self, binding: str) -> ONVIFService:
        device, address = self.device, self.subscription_address
        assert device is not None and address is not None
        events = self._service("events")
        if self._history not in events.zeep_client.plugins:
            events.zeep_client.plugins.append(self._history)
        # Reuse the events service's parsed WSDL; only the binding and address differ.
        return self._call("connecting to the subscription", lambda: ONVIFService(
            address, self.config.user, self.config.password,
            str(self.wsdl_dir / "events.wsdl"), zeep_client=events.zeep_client,
            dt_diff=device.dt_diff, binding_name=binding,
        ))

    def _track(self, current: dt.datetime, termination: dt.datetime) -> None:
        self.subscription_left = _naive_utc(termination) - _naive_utc(current)

    def subscribe(self) -> str:
        """Open a pull-point subscription and return its address.

        The first one adopts the subscription ONVIFCamera made while connecting
        (renewed to our duration), so connecting leaves nothing dangling.
        """
        self._device()
        if self.subscription_address is not None:
            self._open_services()
            try:
                self.renew()
            except CameraProtocolError:
                self.subscription_address = None  # already gone (expired, camera restarted)
        if self.subscription_address is None:
            events = self._service("events")
            duration = f"PT{self.subscription_seconds}S"
            reply = self._call(
                "CreatePullPointSubscription",
                lambda: events.CreatePullPointSubscription({"InitialTerminationTime": duration}),
            )
            self.subscription_address = reply.SubscriptionReference.Address._value_1
            self._track(reply.CurrentTime, reply.TerminationTime)
            self._open_services()
        self._latest.clear()
        assert self.subscription_address is not None
        return self.subscription_address

    def _open_services(self) -> None:
        self._pullpoint = self._subscription_service(PULLPOINT_BINDING)
        self._manager = self._subscription_service(SUBSCRIPTION_MANAGER_BINDING)

    def renew(self) -> dt.timedelta:
        """Extend the subscription by ``subscription_seconds``; returns the time it now has."""
        if self._manager is None:
            raise CameraProtocolError(f"{self.label}: no subscription to renew")
        manager = self._manager
        reply = self._call("Renew", lambda: manager.Renew(
            {"TerminationTime": f"PT{self.subscription_seconds}S"}
        ))
        self._track(reply.CurrentTime, reply.TerminationTime)
        assert self.subscription_left is not None
        return self.subscription_left

    def pull(self, *, wait: dt.timedelta = dt.timedelta(0), limit: int = 100) -> list[CountEvent]:
        """Counting events queued since the last pull (waiting up to ``wait`` for one)."""
        if self._pullpoint is None:
            raise CameraProtocolError(f"{self.label}: no subscription to pull from")
        pullpoint = self._pullpoint
        reply = self._call("PullMessages", lambda: pullpoint.PullMessages(
            {"Timeout": wait, "MessageLimit": limit}
        ))
        self._track(reply.CurrentTime, reply.TerminationTime)
        received = self._history.last_received
        if received is None:
            raise CameraProtocolError(f"{self.label}: PullMessages gave no envelope to read")
        events = parse_notifications(received["envelope"])
        for event in events:
            self._latest[event.rule] = event
        return events

    def unsubscribe(self) -> None:
        """End the subscription politely; cameras have few subscription slots."""
        if self._manager is not None:
            manager = self._manager
            self._call("Unsubscribe", lambda: manager.Unsubscribe())
        self._pullpoint = self._manager = None
        self.subscription_address = None
        self.subscription_left = None

    def read_counts(self) -> Counts:
        """Connect and subscribe as needed, pull, keep the subscription alive; the counts now."""
        self._device()
        if self._pullpoint is None:
            self.subscribe()
        try:
            self.pull()
        except CameraProtocolError as exc:
            # The camera answered but no longer knows our subscription: start over.
            log.info("%s lost its subscription (%s); subscribing again", self.label, exc)
            self.subscription_address = None
            self.subscribe()
            self.pull()
        if self.subscription_left is not None and \
                self.subscription_left < dt.timedelta(seconds=self.subscription_seconds / 2):
            self.renew()
        return self.counts()

    def counts(self) -> Counts:
        """The latest values seen, by the camera's role."""
        if self.config.role == "entrance":
            entered = self._latest.get(self.config.in_rule)
            exited = self._latest.get(self.config.out_rule)
            if entered is None or exited is None:
                return Counts(None)
            return Counts(max(0, entered.count - exited.count), entered.count, exited.count,
                          max(entered.at, exited.at))
        occupancy = [e for e in self._latest.values() if e.topic == OCCUPANCY_TOPIC]
        if not occupancy:
            return Counts(None)
        return Counts(sum(e.count for e in occupancy), at=max(e.at for e in occupancy))

    def close(self) -> None:
        """Unsubscribe if the camera still answers; never raises."""
        try:
            self.unsubscribe()
        except CameraError as exc:
            log.info("%s: could not unsubscribe: %s", self.label, exc)

