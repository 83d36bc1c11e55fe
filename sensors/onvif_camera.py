"""Counting over ONVIF (Profile M rules) with onvif-zeep-async, the client Home Assistant uses.

Why this client: it is maintained (onvif-zeep's last release was in 2018), it
adds the WS-Addressing headers the event service needs (a pull point that gets
Renew without them faults, and the camera flapped offline), it can rewrite the
addresses a camera advertises to the host and port we reach it on (NAT, port
forwarding, a second interface), and it signs WS-Security tokens with the
camera's clock. It is asyncio-only; sessions run on the pool's
:class:`~sensors.camera.CameraLoop`.

The session keeps one pull-point subscription between polls: it subscribes
(then ``SetSynchronizationPoint``, so the current values come at once), pulls
what is new on each poll, renews when less than half its time is left, and
unsubscribes before subscribing again and when closed (cameras have few
subscription slots). Counts are property events keyed by (topic, video
source, rule); a rule announced ``Deleted``, or missing when the camera
re-sends every value at a synchronization point, is forgotten.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import logging
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from lxml import etree
from onvif import ONVIFCamera, ONVIFError, ONVIFService
from onvif.exceptions import ONVIFAuthError
from onvif.util import normalize_url
from zeep.exceptions import Fault, TransportError
from zeep.plugins import Plugin

from hall_ops.clock import Clock, system_clock
from sensors.camera import (
    CameraClockOff,
    CameraError,
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

T = TypeVar("T")

EVENTS_NS = "http://www.onvif.org/ver10/events/wsdl"
PULLPOINT_KEY = f"{EVENTS_NS}/PullPointSubscription"
OCCUPANCY_TOPIC = "tns1:RuleEngine/CountAggregation/OccupancyCounter"
LINE_COUNT_TOPIC = "tns1:RuleEngine/CountAggregation/Counter"
COUNTING_TOPICS = (OCCUPANCY_TOPIC, LINE_COUNT_TOPIC)
TOPICS_NS = "http://www.onvif.org/ver10/topics"
COUNT_ITEMS = ("count", "objectcount")
"""Data items that carry a count (compared without case): ``Count`` (ONVIF), ``ObjectCount``."""
SOURCE_ITEMS = ("videosource", "videosourcetoken", "videosourceconfigurationtoken", "source")
RULE_ITEMS = ("rule", "rulename")
RESYNC = dt.timedelta(minutes=10)
"""How often the camera is asked to re-send every value (finds rules deleted silently)."""
_NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "tt": "http://www.onvif.org/ver10/schema",
    "tev": EVENTS_NS,
}
_TIME_REQUEST = (
    '<?xml version="1.0" encoding="UTF-8"?><s:Envelope '
    'xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
    '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>'
    "</s:Body></s:Envelope>"
)


@dataclass(frozen=True)
class DeviceInfo:
    manufacturer: str
    model: str
    firmware: str
    serial: str
    hardware_id: str


@dataclass(frozen=True)
class CountEvent:
    """One counting notification: which rule on which video source said what (naive UTC)."""

    topic: str
    source: str
    rule: str
    count: int
    at: dt.datetime | None
    operation: str | None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.topic, self.source, self.rule


@dataclass(frozen=True)
class Notifications:
    """A PullMessages answer read: counting events, and the topics not read."""

    events: list[CountEvent]
    other_topics: set[str]
    unreadable: set[str]


class CameraRefused(CameraGarbled):
    """The camera answered a call with a SOAP fault (its subcodes kept, for the caller)."""

    def __init__(self, message: str, subcodes: Iterable[str]) -> None:
        super().__init__(message)
        self.subcodes = tuple(subcodes)


class _LastReply(Plugin):
    """Keeps the envelope of the last answer: counts are read from it, not from zeep's objects
    (zeep drops the text of wsnt:Topic, and chokes on replies that are merely incomplete)."""

    envelope: etree._Element | None = None

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        self.envelope = envelope
        return envelope, http_headers


def _naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _read_time(text: str | None) -> dt.datetime | None:
    if not text or not text.strip():
        return None
    try:
        return _naive_utc(dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        return None


def _topic_name(element: etree._Element) -> str:
    """The topic as ``tns1:…`` whatever prefix the camera bound to the ONVIF topic namespace."""
    text = (element.text or "").strip()
    prefix, sep, rest = text.partition(":")
    if sep and element.nsmap.get(prefix) == TOPICS_NS:
        return f"tns1:{rest}"
    return text


def _item(message: etree._Element, part: str, names: tuple[str, ...]) -> str | None:
    for item in message.iterfind(f"tt:{part}/tt:SimpleItem", _NS):
        if (item.get("Name") or "").lower() in names:
            return item.get("Value")
    return None


def parse_notifications(envelope: etree._Element) -> Notifications:
    """Counting events in a PullMessagesResponse envelope.

    Tolerant of what real cameras send: a count written "17.0", a Data item
    named ``ObjectCount``, any prefix for the ONVIF topic namespace, a missing
    UtcTime. Other topics are returned by name, so the caller can say once
    that a camera sends (vendor) topics it does not read.
    """
    events: list[CountEvent] = []
    other: set[str] = set()
    unreadable: set[str] = set()
    for holder in envelope.iterfind(".//wsnt:NotificationMessage", _NS):
        topic_el = holder.find("wsnt:Topic", _NS)
        message = holder.find("wsnt:Message/tt:Message", _NS)
        if topic_el is None or message is None:
            continue
        topic = _topic_name(topic_el)
        if topic not in COUNTING_TOPICS:
            other.add(topic)
            continue
        operation = message.get("PropertyOperation")
        count = read_number(_item(message, "Data", COUNT_ITEMS))
        if count is None and operation != "Deleted":
            unreadable.add(topic)
            continue
        events.append(CountEvent(
            topic, _item(message, "Source", SOURCE_ITEMS) or "",
            _item(message, "Source", RULE_ITEMS) or "", count or 0,
            _read_time(message.get("UtcTime")), operation,
        ))
    return Notifications(events, other, unreadable)


def _root_cause(exc: BaseException) -> BaseException:
    """onvif-zeep-async wraps errors in ONVIFError; the original is its cause."""
    seen = exc
    while isinstance(seen, ONVIFError) and not isinstance(seen, ONVIFAuthError) \
            and (seen.__cause__ or seen.__context__) is not None:
        seen = seen.__cause__ or seen.__context__
    return seen


def _subcodes(fault: Fault) -> list[str]:
    values = fault.subcodes if isinstance(fault.subcodes, list) else [fault.subcodes]
    out = []
    for value in values:
        if value is None:
            continue
        text = value.localname if isinstance(value, etree.QName) else \
            getattr(value, "text", None) or str(value)
        out.append(text.rsplit(":", 1)[-1].rsplit("}", 1)[-1])
    return out


def _is_not_authorized(cause: BaseException) -> bool:
    if isinstance(cause, ONVIFAuthError):
        return True
    if isinstance(cause, Fault):
        text = f"{cause.message} {cause.code}".lower()
        return "NotAuthorized" in _subcodes(cause) or "not authorized" in text \
            or "notauthorized" in text
    return isinstance(cause, TransportError) and cause.status_code == 401


def _connection_words(cause: BaseException) -> str:
    os_error = getattr(cause, "os_error", cause)
    if isinstance(os_error, OSError) and os_error.errno == errno.ECONNREFUSED:
        return "connection refused"
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return "it hung up"
    return "no connection"


class OnvifCounter:
    """A session with one ONVIF counting camera (one poll at a time)."""

    def __init__(
        self,
        config: CameraConfig,
        *,
        timeout: float = 5.0,
        subscription_seconds: int = 300,
        clock: Clock = system_clock,
        clock_tolerance: float = 120.0,
    ) -> None:
        self.config = config
        self.timeout = timeout
        self.subscription_seconds = subscription_seconds
        self.clock = clock
        self.clock_tolerance = clock_tolerance
        self.device: ONVIFCamera | None = None
        self.clock_offset: float | None = None
        """The camera's clock minus ours, seconds, as of the last connection."""
        self.subscription_address: str | None = None
        self._pullpoint: ONVIFService | None = None
        self._manager: ONVIFService | None = None
        self._renew_after: dt.datetime | None = None
        self._next_sync: dt.datetime | None = None
        self._sync_pending = False
        self._reply = _LastReply()
        self._latest: dict[tuple[str, str, str], CountEvent] = {}
        self._told: set[str] = set()

    @property
    def label(self) -> str:
        return label(self.config)

    # ---- error translation ------------------------------------------------
    async def _call(self, what: str, call: Awaitable[T]) -> T:
        """Await one camera call within the timeout; failures become CameraErrors."""
        try:
            async with asyncio.timeout(self.timeout):
                return await call
        except CameraError:
            raise
        except Exception as exc:  # whatever the library raises, the caller gets our sentence
            raise self._translate(what, exc) from None

    def _translate(self, what: str, exc: BaseException) -> CameraError:
        cause = _root_cause(exc)
        if isinstance(cause, TimeoutError):
            return CameraUnreachable(
                f"{self.label} did not answer {what} within {self.timeout:g} s")
        if isinstance(cause, aiohttp.ClientConnectionError | OSError):
            return CameraUnreachable(
                f"{self.label} is unreachable ({what}: {_connection_words(cause)})")
        if _is_not_authorized(cause):
            return CameraUnauthorized(f"{self.label} rejected the user name or password")
        if isinstance(cause, Fault):
            codes = _subcodes(cause)
            return CameraRefused(
                f"{self.label} refused {what}" + (f" ({', '.join(codes)})" if codes else ""),
                codes)
        if isinstance(cause, TransportError):
            return CameraGarbled(f"{self.label} answered {what} with HTTP {cause.status_code}")
        log.info("%s: unreadable answer to %s: %r", self.label, what, cause)
        return CameraGarbled(f"{self.label} gave an unreadable answer to {what}")

    # ---- device -----------------------------------------------------------
    async def connect(self) -> DeviceInfo:
        """Learn the camera's services and clock, check the credentials and that it counts."""
        await self._drop_device()
        device = ONVIFCamera(
            self.config.host, self.config.port, self.config.user, self.config.password,
            no_cache=True, adjust_time=True, nat_override=self.config.rewrite_addresses,
        )
        self.device = device
        try:
            await self._call("GetServices", device.update_xaddrs())
            self.clock_offset = self._offset_from(device.dt_diff)
            devicemgmt = await self._call("connecting to the device service",
                                          device.create_devicemgmt_service())
            info = await self._call("GetDeviceInformation", devicemgmt.GetDeviceInformation())
            if EVENTS_NS not in device.xaddrs:
                raise CameraNoAnalytics(
                    f"{self.label} has no events service, so no counting analytics")
        except CameraUnauthorized as refused:
            offset = self._offset_from(device.dt_diff) if device.dt_diff is not None \
                else await self._probe_clock()
            await self._drop_device()
            if offset is not None and abs(offset) > self.clock_tolerance:
                raise CameraClockOff(
                    f"{self.label} refused the credentials; its clock is off by {offset:+.0f} s",
                    offset) from None
            raise refused
        except CameraError:
            await self._drop_device()
            raise
        return DeviceInfo(info.Manufacturer, info.Model, info.FirmwareVersion, info.SerialNumber,
                          info.HardwareId)

    def _offset_from(self, dt_diff: dt.timedelta | None) -> float | None:
        """onvif-zeep-async's offset is against the system clock; ours is the hall's clock."""
        if dt_diff is None:
            return None
        camera_now = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt_diff
        return (camera_now - self.clock()).total_seconds()

    async def _probe_clock(self) -> float | None:
        """The camera's clock from the Date header of an unauthenticated call (cameras that
        want credentials even for GetSystemDateAndTime still date their refusal)."""
        url = f"http://{self.config.host}:{self.config.port}/onvif/device_service"
        try:
            async with aiohttp.ClientSession() as session, asyncio.timeout(self.timeout), \
                    session.post(url, data=_TIME_REQUEST, headers={
                        "Content-Type": "application/soap+xml; charset=utf-8"}) as response:
                return offset_from_date_header(response.headers, self.clock())
        except (aiohttp.ClientError, OSError, TimeoutError):
            return None

    async def _drop_device(self) -> None:
        device, self.device = self.device, None
        self._pullpoint = self._manager = None
        if device is not None:
            try:
                await device.close()
            except (aiohttp.ClientError, OSError) as exc:
                log.debug("%s: closing the connection: %r", self.label, exc)

    async def _device(self) -> ONVIFCamera:
        if self.device is None:
            await self.connect()
        assert self.device is not None
        return self.device

    # ---- events -----------------------------------------------------------
    async def subscribe(self) -> str:
        """A fresh pull-point subscription (the previous one ended first); its address."""
        device = await self._device()
        await self._unsubscribe_quietly()
        events = await self._call("connecting to the events service",
                                  device.create_events_service())
        await self._require_counting_topics(events)
        try:
            reply = await self._call("CreatePullPointSubscription",
                                     events.CreatePullPointSubscription(
                                         {"InitialTerminationTime":
                                          f"PT{self.subscription_seconds}S"}))
        except CameraRefused as exc:
            if "ActionNotSupported" in exc.subcodes:
                raise CameraNoAnalytics(
                    f"{self.label} offers no pull-point events, so no counting analytics"
                ) from None
            raise
        try:
            advertised = reply.SubscriptionReference.Address._value_1
        except AttributeError:
            advertised = None
        if not isinstance(advertised, str) or not advertised.strip():
            raise CameraGarbled(f"{self.label} gave no subscription address")
        self.subscription_address = device.rewrite_url(normalize_url(advertised.strip()))
        device.xaddrs[PULLPOINT_KEY] = self.subscription_address
        pullpoint = await self._call("connecting to the subscription",
                                     device.create_pullpoint_service())
        self._manager = await self._call("connecting to the subscription",
                                         device.create_subscription_service(
                                             "PullPointSubscription"))
        if self._reply not in pullpoint.zeep_client.plugins:
            pullpoint.zeep_client.plugins.append(self._reply)
        self._pullpoint = pullpoint
        self._track(getattr(reply, "CurrentTime", None), getattr(reply, "TerminationTime", None))
        self._latest.clear()
        await self._synchronize()
        return self.subscription_address

    async def _require_counting_topics(self, events: ONVIFService) -> None:
        """No counting topic among the camera's events: it has no counting analytics."""
        plugin = _LastReply()
        events.zeep_client.plugins.append(plugin)
        try:
            await self._call("GetEventProperties", events.GetEventProperties())
        except CameraGarbled:
            if plugin.envelope is None:
                raise
        finally:
            events.zeep_client.plugins.remove(plugin)
        if plugin.envelope is None:
            raise CameraGarbled(f"{self.label} gave an unreadable answer to GetEventProperties")
        names = {etree.QName(el).localname for el in plugin.envelope.iter()
                 if isinstance(el.tag, str)}
        if "CountAggregation" not in names:
            raise CameraNoAnalytics(
                f"{self.label} announces no counting events (no CountAggregation topic)")

    async def _synchronize(self) -> None:
        """Ask for every current value again (SetSynchronizationPoint); optional for cameras."""
        assert self._pullpoint is not None
        self._next_sync = self.clock() + RESYNC
        try:
            await self._call("SetSynchronizationPoint",
                             self._pullpoint.SetSynchronizationPoint())
        except CameraRefused as exc:
            log.info("%s: %s", self.label, exc)
            return
        self._sync_pending = True

    def _track(self, current: Any, termination: Any) -> None:
        """When to renew, from the camera's view of the subscription's time left."""
        now = self.clock()
        if isinstance(current, dt.datetime) and isinstance(termination, dt.datetime):
            left = _naive_utc(termination) - _naive_utc(current)
        else:
            left = dt.timedelta(seconds=self.subscription_seconds)
        self._renew_after = now + left - dt.timedelta(seconds=self.subscription_seconds / 2)

    async def renew(self) -> None:
        manager = self._manager
        if manager is None:
            raise CameraGarbled(f"{self.label}: no subscription to renew")
        self._reply.envelope = None
        reply = await self._call("Renew", manager.Renew(
            {"TerminationTime": f"PT{self.subscription_seconds}S"}))
        self._track(getattr(reply, "CurrentTime", None), getattr(reply, "TerminationTime", None))

    async def pull(self) -> list[CountEvent]:
        """Counting events queued since the last pull."""
        pullpoint = self._pullpoint
        if pullpoint is None:
            raise CameraGarbled(f"{self.label}: no subscription to pull from")
        self._reply.envelope = None
        try:
            await self._call("PullMessages", pullpoint.PullMessages(
                {"Timeout": dt.timedelta(0), "MessageLimit": 100}))
        except CameraRefused:
            raise
        except CameraGarbled:
            if self._reply.envelope is None:  # not even XML: nothing to read
                raise
        envelope = self._reply.envelope
        response = envelope.find(".//tev:PullMessagesResponse", _NS) \
            if envelope is not None else None
        if response is None:
            raise CameraGarbled(f"{self.label} gave an unreadable answer to PullMessages")
        current = _read_time(response.findtext("tev:CurrentTime", namespaces=_NS))
        termination = _read_time(response.findtext("tev:TerminationTime", namespaces=_NS))
        if current is not None and termination is not None:
            self._track(current, termination)
        read = parse_notifications(envelope)
        self._remember(read.events)
        for topic in sorted(read.other_topics - self._told):
            self._told.add(topic)
            if not topic.startswith("tns1:"):
                log.info("%s sends %s events; they are not read (only ONVIF counting rules "
                         "and the vendor APIs in the README are)", self.label, topic)
        for topic in sorted(read.unreadable - self._told):
            self._told.add(topic)
            log.warning("%s sends %s messages without a readable count", self.label, topic)
        return read.events

    def _remember(self, events: list[CountEvent]) -> None:
        if self._sync_pending and any(e.operation == "Initialized" for e in events):
            fresh = {e.key for e in events if e.operation == "Initialized"}
            for key in set(self._latest) - fresh:
                log.info("%s: rule %s on %s is gone", self.label, key[2], key[1])
                del self._latest[key]
            self._sync_pending = False
        for event in events:
            if event.operation == "Deleted":
                self._latest.pop(event.key, None)
            else:
                self._latest[event.key] = event

    async def _unsubscribe_quietly(self) -> None:
        """End the current subscription if there is one; a camera that cannot is logged."""
        manager, self._manager, self._pullpoint = self._manager, None, None
        self.subscription_address = None
        if manager is None:
            return
        try:
            await self._call("Unsubscribe", manager.Unsubscribe())
        except CameraError as exc:
            log.info("%s: could not unsubscribe: %s", self.label, exc)

    async def read_counts(self) -> Counts:
        """Connect and subscribe as needed, pull, keep the subscription alive; the counts now."""
        try:
            await self._device()
            if self._pullpoint is None:
                await self.subscribe()
            try:
                await self.pull()
            except CameraGarbled as exc:
                # The camera no longer knows our subscription (expired, rebooted) or is
                # confused by it: end it and start a new one.
                log.info("%s: %s; subscribing again", self.label, exc)
                await self.subscribe()
                await self.pull()
            now = self.clock()
            if self._renew_after is not None and now >= self._renew_after:
                await self.renew()
            if self._next_sync is not None and now >= self._next_sync:
                await self._synchronize()
        except CameraUnreachable:
            raise  # keep the session: the next poll picks up where this one stopped
        except CameraError:
            await self.close()  # start afresh next time (new clock check, new subscription)
            raise
        return self.counts()

    def counts(self) -> Counts:
        """The latest values seen, by the camera's role and the configured rules."""
        source = self.config.video_source
        latest = [e for e in self._latest.values() if source is None or e.source == source]
        stamps = [e.at for e in latest if e.at is not None]
        at = max(stamps) if stamps else None
        if self.config.role == "entrance":
            lines = [e for e in latest if e.topic == LINE_COUNT_TOPIC]
            entered = [e.count for e in lines if e.rule == self.config.in_rule]
            exited = [e.count for e in lines if e.rule == self.config.out_rule]
            if not entered or not exited:
                return Counts(None, clock_offset=self.clock_offset)
            return door_counts(sum(entered), sum(exited), at, self.clock_offset)
        chosen = self.config.occupancy_rules
        occupancy = [e for e in latest if e.topic == OCCUPANCY_TOPIC
                     and (not chosen or e.rule in chosen)]
        if not occupancy:
            return Counts(None, clock_offset=self.clock_offset)
        return Counts(sum(max(e.count, 0) for e in occupancy), at=at,
                      clamped=any(e.count < 0 for e in occupancy),
                      clock_offset=self.clock_offset)

    async def close(self) -> None:
        """Unsubscribe if the camera still answers and close the connections; never raises."""
        await self._unsubscribe_quietly()
        await self._drop_device()
