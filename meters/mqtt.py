"""MQTT connection settings shared by the ingester and the simulators: URL parsing and a
paho-mqtt 2.x client factory (TLS for ``mqtts://``)."""

from __future__ import annotations

import logging
import ssl
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho

from meters.errors import MetersError

log = logging.getLogger(__name__)


class MqttConfigError(MetersError):
    """The MQTT URL is not usable."""


@dataclass(frozen=True, slots=True)
class MqttEndpoint:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None

    @classmethod
    def from_url(cls, url: str, ca_file: str | None = None) -> MqttEndpoint:
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
        )

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def make_client(
    endpoint: MqttEndpoint,
    client_id: str,
    *,
    clean_start: bool = True,
    manual_ack: bool = False,
) -> paho.Client:
    """A paho MQTT 3.1.1 client for ``endpoint``; ``clean_start=False`` keeps the session."""
    client = paho.Client(
        callback_api_version=paho.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_start,
        protocol=paho.MQTTv311,
        manual_ack=manual_ack,
    )
    if endpoint.username:
        client.username_pw_set(endpoint.username, endpoint.password)
    if endpoint.tls:
        context = ssl.create_default_context(cafile=endpoint.ca_file)
        client.tls_set_context(context)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


class MqttSession:
    """The connection lifecycle shared by every gasguard MQTT client: connect in the
    background, (re)subscribe on every connection, and be *ready* only once the broker has
    acknowledged the subscriptions. ``generation`` counts connections, so that a message
    can be acknowledged only on the connection that delivered it."""

    def __init__(
        self,
        client: paho.Client,
        endpoint: MqttEndpoint,
        subscriptions: list[tuple[str, int]],
        name: str,
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.generation = 0
        self._subscriptions = subscriptions
        self._name = name
        self._ready = threading.Event()
        self._stopping = threading.Event()
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect

    def start(self) -> None:
        self.client.connect_async(self.endpoint.host, self.endpoint.port, keepalive=30)
        self.client.loop_start()

    def wait_ready(self, timeout_s: float) -> bool:
        """True once connected and subscribed (the broker acknowledged the subscriptions)."""
        return self._ready.wait(timeout_s)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def stop(self) -> None:
        self._stopping.set()
        self.client.disconnect()
        self.client.loop_stop()

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
            log.warning(
                "%s: disconnected from %s (%s); reconnecting", self._name, self.endpoint.url, reason
            )
