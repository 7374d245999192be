"""What a broker will do for gasguard, measured from outside as a client: its in-flight
window (how many QoS 1 messages it delivers before the first acknowledgement), its queue
limit for a session that is away (how many it keeps, the rest it drops), its ``$SYS``
topics. Used by ``gasguard doctor`` and by ``gasguard ingest`` at start (the window only:
it drops nothing). The probes publish on ``gasguard/probe/<random>`` only.
"""

from __future__ import annotations

import dataclasses
import ssl
import threading
import time
import uuid
from dataclasses import dataclass

import paho.mqtt.client as paho

from transport.errors import ProbeError
from transport.mqtt import MqttEndpoint, MqttSession, SessionOptions

PROBE_PREFIX = "gasguard/probe"
DROPPED_TOPIC = "$SYS/broker/publish/messages/dropped"
VERSION_TOPIC = "$SYS/broker/version"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    published: int
    delivered: int

    @property
    def limited(self) -> bool:
        """The broker held some back: ``delivered`` is its limit."""
        return self.delivered < self.published


class _Counter:
    def __init__(self) -> None:
        self.count = 0
        self.changed = time.monotonic()
        self.lock = threading.Lock()

    def on_message(self, _c: paho.Client, _u: object, _m: paho.MQTTMessage) -> None:
        with self.lock:
            self.count += 1
            self.changed = time.monotonic()

    def settle(self, target: int, quiet_s: float, timeout_s: float) -> int:
        """Wait until ``target`` arrived, or nothing new for ``quiet_s``; the count."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if self.count >= target or time.monotonic() - self.changed >= quiet_s:
                    return self.count
            time.sleep(0.02)
        return self.count


def _v311(endpoint: MqttEndpoint) -> MqttEndpoint:
    return dataclasses.replace(endpoint, protocol="3.1.1")


def _started(
    endpoint: MqttEndpoint,
    client_id: str,
    subscriptions: list[tuple[str, int]],
    options: SessionOptions,
    counter: _Counter | None = None,
    timeout_s: float = 10.0,
) -> MqttSession:
    session = MqttSession(endpoint, client_id, subscriptions, "broker probe", options)
    if counter is not None:
        session.client.on_message = counter.on_message
    session.start()
    if not session.wait_ready(timeout_s):
        session.stop()
        raise ProbeError(f"cannot connect and subscribe to {endpoint.url} for the probe")
    return session


def _publish(endpoint: MqttEndpoint, topic: str, count: int, timeout_s: float) -> None:
    publisher = _started(
        endpoint, f"gasguard-probe-pub-{uuid.uuid4().hex[:8]}", [], SessionOptions()
    )
    try:
        infos = [publisher.client.publish(topic, b"probe", qos=1) for _ in range(count)]
        deadline = time.monotonic() + timeout_s
        for info in infos:
            info.wait_for_publish(max(0.01, deadline - time.monotonic()))
        if not all(info.is_published() for info in infos):
            raise ProbeError(f"the broker did not take the probe's {count} messages in time")
    finally:
        publisher.stop()


def probe_window(endpoint: MqttEndpoint, count: int = 3000, timeout_s: float = 15.0) -> ProbeResult:
    """How many QoS 1 messages an MQTT 3.1.1 subscriber gets before it acknowledges any
    (Mosquitto's ``max_inflight_messages``; stock: 20). Nothing is dropped: the probe's
    session is clean and the broker discards the rest when it leaves."""
    v311 = _v311(endpoint)
    topic = f"{PROBE_PREFIX}/{uuid.uuid4().hex}"
    counter = _Counter()
    options = SessionOptions(manual_ack=True)
    subscriber = _started(
        v311, f"gasguard-probe-{uuid.uuid4().hex[:8]}", [(topic, 1)], options, counter
    )
    try:
        _publish(v311, topic, count, timeout_s)
        delivered = counter.settle(count, quiet_s=1.0, timeout_s=timeout_s)
    finally:
        subscriber.stop()
    return ProbeResult(count, delivered)


def probe_queue(endpoint: MqttEndpoint, count: int = 1500, timeout_s: float = 30.0) -> ProbeResult:
    """How many QoS 1 messages the broker keeps for a persistent session while it is away
    (Mosquitto's ``max_queued_messages`` plus its in-flight window; stock: 1,000 + 20): the
    rest it **drops**, which moves its drop counter (a running ``gasguard ingest`` then
    raises its broker-drops alarm; ``gasguard doctor --probe-queue`` says so)."""
    v311 = _v311(endpoint)
    topic = f"{PROBE_PREFIX}/{uuid.uuid4().hex}"
    client_id = f"gasguard-probe-{uuid.uuid4().hex[:8]}"
    _started(v311, client_id, [(topic, 1)], SessionOptions(persistent=True)).stop()
    counter = _Counter()
    try:
        _publish(v311, topic, count, timeout_s)
        back = _started(v311, client_id, [(topic, 1)], SessionOptions(persistent=True), counter)
        delivered = counter.settle(count, quiet_s=1.0, timeout_s=timeout_s)
        back.stop()
    finally:
        _started(v311, client_id, [], SessionOptions(persistent=False)).stop()  # forget it
    return ProbeResult(count, delivered)


@dataclass(frozen=True, slots=True)
class SysTopics:
    version: str | None  # None: no $SYS access (ACL, or not Mosquitto)
    dropped: int | None


def read_sys(endpoint: MqttEndpoint, wait_s: float = 12.0) -> SysTopics:
    """The broker's version and drop counter from ``$SYS`` (Mosquitto publishes the
    counters every ``sys_interval``, 10 s by default; the version is retained)."""
    values: dict[str, str] = {}
    got = threading.Event()

    def on_message(_c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        values[msg.topic] = msg.payload.decode("utf-8", "replace")
        if DROPPED_TOPIC in values:
            got.set()

    session = MqttSession(
        _v311(endpoint),
        f"gasguard-probe-{uuid.uuid4().hex[:8]}",
        [(VERSION_TOPIC, 0), (DROPPED_TOPIC, 0)],
        "broker probe",
    )
    session.client.on_message = on_message
    session.start()
    try:
        if session.wait_ready(10):  # else the subscription was refused: no $SYS access
            got.wait(wait_s)
    finally:
        session.stop()
    dropped = values.get(DROPPED_TOPIC)
    return SysTopics(values.get(VERSION_TOPIC), int(dropped) if dropped is not None else None)


def accepts_anonymous(endpoint: MqttEndpoint, timeout_s: float = 10.0) -> bool:
    """Whether the broker lets in a client that gives no username and no password (then
    anyone who reaches it can publish readings as any meter). ``ProbeError`` when it
    cannot be reached or does not answer."""
    answered = threading.Event()
    refused: list[bool] = []

    def on_connect(_c: paho.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        refused.append(bool(getattr(reason, "is_failure", True)))
        answered.set()

    client = paho.Client(
        callback_api_version=paho.CallbackAPIVersion.VERSION2,
        client_id=f"gasguard-probe-{uuid.uuid4().hex[:8]}",
        protocol=paho.MQTTv311,
    )
    if endpoint.tls:
        client.tls_set_context(ssl.create_default_context(cafile=endpoint.ca_file))
    client.on_connect = on_connect
    try:
        client.connect(endpoint.host, endpoint.port, 30)
    except (OSError, ssl.SSLError) as exc:
        raise ProbeError(f"cannot connect to {endpoint.url}: {exc}") from exc
    client.loop_start()
    try:
        if not answered.wait(timeout_s):
            raise ProbeError(f"{endpoint.url} did not answer an anonymous CONNECT")
    finally:
        client.disconnect()
        client.loop_stop()
    return not refused[0]
