"""MQTT connections shared by the ingester, the simulators and the tests: URL parsing and
``MqttSession``, which owns a paho-mqtt 2.x client and its network loop.

The session reconnects with exponential backoff and jitter, resubscribes on every
connection, counts reconnects, and is *ready* only once the broker acknowledged the
subscriptions. A persistent session (MQTT 5 ``clean_start=False`` with a session expiry,
or 3.1.1 ``clean_session=False``) makes the broker keep unacknowledged QoS 1 messages for
a fixed client id while it is away.
"""

from __future__ import annotations

import logging
import random
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from transport.errors import MqttConfigError, PublishRefused

log = logging.getLogger(__name__)

Protocol = Literal["5", "3.1.1"]


@dataclass(frozen=True, slots=True)
class MqttEndpoint:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    protocol: Protocol = "5"

    @classmethod
    def from_url(
        cls, url: str, ca_file: str | None = None, protocol: Protocol = "5"
    ) -> MqttEndpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise MqttConfigError(f"MQTT URL {url!r}: scheme must be mqtt:// or mqtts://")
        if not parts.hostname:
            raise MqttConfigError(f"MQTT URL {url!r}: no host")
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError as exc:
            raise MqttConfigError(f"MQTT URL {url!r}: bad port") from exc
        return cls(
            host=parts.hostname,
            port=port,
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ca_file=ca_file,
            protocol=protocol,
        )

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """How a session connects: persistence, acknowledgement and reconnect timing."""

    persistent: bool = False
    manual_ack: bool = False
    session_expiry_s: int = 7 * 86_400
    keepalive_s: int = 30
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0
    # MQTT 5 only: how many unacknowledged QoS 1/2 messages the broker may send at once
    # (CONNECT Receive Maximum); None leaves it to the broker (v5: 65,535).
    receive_maximum: int | None = None


def backoff_delay(attempt: int, minimum: float, maximum: float, draw: Callable[[], float]) -> float:
    """Exponential backoff with jitter: a delay in [base/2, base], base = min * 2^attempt
    capped at ``maximum``; ``draw`` returns a number in [0, 1)."""
    base = min(maximum, minimum * 2 ** min(attempt, 30))
    return base / 2 + (base / 2) * draw()


def _writes_stay_on_the_network_thread(
    _client: paho.Client, _userdata: object, _sock: object
) -> None:
    """paho's external-loop hook; see ``MqttSession._make_client``."""


class BufferedClient(paho.Client):
    """paho's client with two changes below its public API, for throughput (measured in
    docs/benchmarks.md): paho reads every packet with three or more small ``recv`` calls
    (type byte, each length byte, body) and sends every PUBACK as its own write.

    * Reads are served from one ``recv`` of up to 64 KiB per call into the socket, and the
      session drains what is buffered (``buffered_input``) before it waits in ``select``.
    * ``ack_many`` queues the PUBACKs of a whole batch as one packet: one write, one
      wake-up of the network thread, instead of one per message.

    Both rely on paho 2.2's internal ``_sock_recv`` and ``_packet_queue``; the version is
    pinned in pyproject.toml and tests/meters/test_mqtt.py covers both paths.
    """

    READ_CHUNK = 65_536

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_buffer = b""
        self._read_pos = 0
        self._read_socket: object = None

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._read_socket is not self._sock:  # a new connection: nothing buffered
            self._read_socket, self._read_buffer, self._read_pos = self._sock, b"", 0
        if self._read_pos >= len(self._read_buffer):
            chunk = super()._sock_recv(self.READ_CHUNK)
            if not chunk:
                return chunk  # end of stream: paho handles the lost connection
            self._read_buffer, self._read_pos = chunk, 0
        start = self._read_pos
        self._read_pos = min(start + bufsize, len(self._read_buffer))
        return self._read_buffer[start : self._read_pos]

    @property
    def buffered_input(self) -> bool:
        """Bytes read from the current connection that paho has not parsed yet."""
        return self._read_socket is self._sock and self._read_pos < len(self._read_buffer)

    def ack_many(self, mids: list[int]) -> None:
        """Acknowledge QoS 1 messages (manual acknowledgement) with one write."""
        if mids:
            packet = b"".join(_PUBACK.pack(0x40, 2, mid) for mid in mids)
            self._packet_queue(paho.PUBACK, packet, 0, 1)


_PUBACK = struct.Struct("!BBH")


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message as the session received it. ``generation``: the connection it came on;
    an acknowledgement is only sent on that connection (a redelivery after a reconnect
    carries new packet ids)."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    generation: int


class MqttSession:
    def __init__(
        self,
        endpoint: MqttEndpoint,
        client_id: str,
        subscriptions: list[tuple[str, int]],
        name: str,
        options: SessionOptions | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.options = options or SessionOptions()
        self.generation = 0
        self.reconnects = 0
        self._subscriptions = subscriptions
        self._name = name
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"mqtt-{name}", daemon=True)
        self.client = self._make_client(client_id)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.on_reconnect: Callable[[], None] | None = None

    def _make_client(self, client_id: str) -> BufferedClient:
        v5 = self.endpoint.protocol == "5"
        client = BufferedClient(
            callback_api_version=paho.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=None if v5 else not self.options.persistent,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            manual_ack=self.options.manual_ack,
        )
        client.max_queued_messages_set(0)
        # paho writes to the socket from whichever thread queues a packet unless it runs its
        # own loop thread or an external loop registers for writes. Registering (a no-op:
        # our loop selects for writing whenever packets wait) keeps every socket write on
        # the session's network thread, so acknowledgements and publishes from other
        # threads only queue packets and never interleave on the wire.
        client.on_socket_register_write = _writes_stay_on_the_network_thread
        if self.endpoint.username:
            client.username_pw_set(self.endpoint.username, self.endpoint.password)
        if self.endpoint.tls:
            client.tls_set_context(ssl.create_default_context(cafile=self.endpoint.ca_file))
        return client

    # -- messages in and out --------------------------------------------------------------

    def on_message(self, handler: Callable[[Incoming], None]) -> None:
        """Call ``handler`` with every message received, on the session's network thread."""

        def deliver(_c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
            handler(Incoming(msg.topic, bytes(msg.payload), msg.qos, msg.mid, self.generation))

        self.client.on_message = deliver

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        """Queue a message. QoS 1 while disconnected is kept and sent on reconnect; any
        other refusal (a full queue, a payload too large, QoS 0 with no connection) raises
        ``PublishRefused`` with paho's reason."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == paho.MQTT_ERR_SUCCESS or (info.rc == paho.MQTT_ERR_NO_CONN and qos > 0):
            return
        raise PublishRefused(f"{self._name}: {topic}: {paho.error_string(info.rc)}")

    def publish_durably(
        self, topic: str, payload: bytes, timeout_s: float, retain: bool = False
    ) -> None:
        """QoS 1, and wait until the broker has acknowledged it (PUBACK): for a receiver
        that may answer its sender only then. ``PublishRefused`` when it does not within
        ``timeout_s`` (the message may still go out later: QoS 1 is at least once)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            raise PublishRefused(f"{self._name}: {topic}: {paho.error_string(info.rc)}")
        try:
            info.wait_for_publish(timeout_s)
        except RuntimeError as exc:  # paho: not connected, or the queue refused it
            raise PublishRefused(f"{self._name}: {topic}: {exc}") from exc
        if not info.is_published():
            raise PublishRefused(f"{self._name}: {topic}: no PUBACK within {timeout_s:g} s")

    def last_will(self, topic: str, payload: bytes, qos: int = 1, retain: bool = True) -> None:
        """What the broker publishes when this connection drops (set before ``start``)."""
        self.client.will_set(topic, payload, qos=qos, retain=retain)

    def acknowledge(self, messages: list[Incoming]) -> int:
        """PUBACK (PUBREC for QoS 2) the messages that came on the current connection, in
        one write; the others the broker redelivers. How many QoS 1 were acknowledged."""
        mids = [m.mid for m in messages if m.qos == 1 and m.generation == self.generation]
        self.client.ack_many(mids)
        for message in messages:
            if message.qos == 2 and message.generation == self.generation:
                self.client.ack(message.mid, message.qos)
        return len(mids)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def wait_ready(self, timeout_s: float) -> bool:
        """True once connected and subscribed (the broker acknowledged the subscriptions)."""
        return self._ready.wait(timeout_s)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def stop(self) -> None:
        self._stopping.set()
        self.client.disconnect()
        self._thread.join(timeout=10)

    # -- network loop (own thread) --------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            connected_at = time.monotonic()
            if self._connect():
                while not self._stopping.is_set() and self._loop_once():
                    pass
            if self._stopping.is_set():
                break
            if self.generation and time.monotonic() - connected_at > 60:
                attempt = 0
            delay = backoff_delay(
                attempt, self.options.reconnect_min_s, self.options.reconnect_max_s, random.random
            )
            attempt += 1
            self.reconnects += 1
            if self.on_reconnect is not None:
                self.on_reconnect()
            log.warning("%s: reconnecting to %s in %.1f s", self._name, self.endpoint.url, delay)
            self._stopping.wait(delay)

    def _loop_once(self) -> bool:
        """One pass of the network loop; False once the connection is lost."""
        result = self.client.loop(timeout=0.5)
        while result == paho.MQTT_ERR_SUCCESS and self.client.buffered_input:
            result = self.client.loop_read()
        return result == paho.MQTT_ERR_SUCCESS

    def _connect(self) -> bool:
        try:
            if self.endpoint.protocol == "5":
                properties = Properties(PacketTypes.CONNECT)
                if self.options.persistent:
                    properties.SessionExpiryInterval = self.options.session_expiry_s
                if self.options.receive_maximum is not None:
                    properties.ReceiveMaximum = self.options.receive_maximum
                self.client.connect(
                    self.endpoint.host,
                    self.endpoint.port,
                    self.options.keepalive_s,
                    clean_start=not self.options.persistent,
                    properties=properties,
                )
            else:
                self.client.connect(
                    self.endpoint.host, self.endpoint.port, self.options.keepalive_s
                )
        except (OSError, ssl.SSLError) as exc:
            log.warning("%s: cannot connect to %s: %s", self._name, self.endpoint.url, exc)
            return False
        return True

    # -- paho callbacks (network thread) --------------------------------------------------

    def _on_connect(
        self, client: paho.Client, _u: object, _f: object, reason: object, _p: object = None
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.error(
                "%s: MQTT connection to %s refused: %s", self._name, self.endpoint.url, reason
            )
            return
        self.generation += 1
        log.info(
            "%s: connected to %s (connection %d)", self._name, self.endpoint.url, self.generation
        )
        if self._subscriptions:
            client.subscribe(self._subscriptions)
        else:
            self._ready.set()

    def _on_subscribe(
        self, _c: paho.Client, _u: object, _mid: int, reasons: list[Any], _p: object = None
    ) -> None:
        refused = [r for r in reasons if getattr(r, "is_failure", False)]
        if refused:
            log.error("%s: subscription refused by %s: %s", self._name, self.endpoint.url, refused)
            return
        self._ready.set()
        log.info("%s: subscribed to %s", self._name, ", ".join(t for t, _ in self._subscriptions))

    def _on_disconnect(
        self, _c: paho.Client, _u: object, _f: object, reason: object, _p: object = None
    ) -> None:
        self._ready.clear()
        if not self._stopping.is_set():
            log.warning("%s: disconnected from %s (%s)", self._name, self.endpoint.url, reason)
