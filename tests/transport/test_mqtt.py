from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as paho
import pytest

from tests.helpers import MqttProbe, wait_until
from transport.errors import PublishRefused
from transport.mqtt import (
    BufferedClient,
    Incoming,
    MqttConfigError,
    MqttEndpoint,
    MqttSession,
    SessionOptions,
    backoff_delay,
)


def test_urls_parse_with_credentials_tls_and_defaults() -> None:
    plain = MqttEndpoint.from_url("mqtt://broker.example")
    assert (plain.host, plain.port, plain.tls, plain.username) == (
        "broker.example",
        1883,
        False,
        None,
    )
    secure = MqttEndpoint.from_url(
        "mqtts://meter%40x:p%3Ass@10.0.0.5", ca_file="/ca.pem", protocol="3.1.1"
    )
    assert (secure.port, secure.tls, secure.username, secure.password) == (
        8883,
        True,
        "meter@x",
        "p:ss",
    )
    assert (secure.ca_file, secure.protocol, secure.url) == (
        "/ca.pem",
        "3.1.1",
        "mqtts://10.0.0.5:8883",
    )


@pytest.mark.parametrize("url", ["http://x:1883", "mqtt://", "mqtt://host:notaport"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(MqttConfigError):
        MqttEndpoint.from_url(url)


def test_backoff_grows_to_the_cap_with_jitter_in_the_upper_half() -> None:
    assert backoff_delay(0, 0.5, 30, lambda: 0.0) == 0.25
    assert backoff_delay(0, 0.5, 30, lambda: 0.999999) == pytest.approx(0.5, abs=1e-5)
    assert backoff_delay(3, 0.5, 30, lambda: 0.5) == pytest.approx(4.0 * 0.75)
    assert backoff_delay(50, 0.5, 30, lambda: 0.0) == 15.0
    assert backoff_delay(50, 0.5, 30, lambda: 0.999999) == pytest.approx(30.0, abs=1e-4)


class _Receiver:
    """A manual-ack persistent session that records (mid, payload) and acks on request."""

    def __init__(self, url: str, client_id: str) -> None:
        self.deliveries: list[tuple[int, bytes]] = []
        self._lock = threading.Lock()
        self.session = MqttSession(
            MqttEndpoint.from_url(url),
            client_id,
            [("bench/buffered/#", 1)],
            "receiver",
            SessionOptions(persistent=True, manual_ack=True),
        )
        self.session.client.on_message = self._on_message
        self.session.start()
        assert self.session.wait_ready(10)

    def _on_message(self, _c: object, _u: object, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.deliveries.append((msg.mid, bytes(msg.payload)))

    def payloads(self) -> list[bytes]:
        with self._lock:
            return [payload for _, payload in self.deliveries]

    def ack(self, count: int) -> None:
        with self._lock:
            mids = [mid for mid, _ in self.deliveries[:count]]
        self.session.client.ack_many(mids)


@pytest.mark.integration
def test_buffered_reads_and_batched_acks_keep_every_message_exactly(mosquitto: Any) -> None:
    """Many packets per read (small ones, and bodies larger than the read chunk split over
    several reads) all arrive intact and in order; one batched PUBACK settles exactly the
    messages it names: after a reconnect the broker redelivers only the unacknowledged."""
    client_id = f"buffered-{uuid.uuid4().hex[:8]}"
    payloads = [f"m{i:04d}".encode() * (1 + i % 7) for i in range(600)]
    payloads[100] = b"L" * (BufferedClient.READ_CHUNK * 2 + 17)
    payloads[101] = b"x"
    receiver = _Receiver(mosquitto.url, client_id)
    publisher = MqttProbe(mosquitto.url)
    try:
        for payload in payloads:
            publisher.client.publish("bench/buffered/a", payload, qos=1)
        wait_until(lambda: len(receiver.payloads()) == len(payloads), what="all messages")
        assert receiver.payloads() == payloads
        receiver.ack(400)
        wait_until(lambda: not receiver.session.client.want_write(), what="acks written")
    finally:
        receiver.session.stop()
    again = _Receiver(mosquitto.url, client_id)
    try:
        wait_until(lambda: len(again.payloads()) >= 200, what="redelivery")
        time.sleep(0.5)  # nothing beyond the 200 unacknowledged may follow
        assert again.payloads() == payloads[400:]
        again.ack(200)
    finally:
        again.session.stop()
        publisher.close()


def test_messages_come_as_values_and_a_refused_publish_is_an_error(mosquitto: Any) -> None:
    """Outside this package nobody sees paho: a message arrives as an ``Incoming`` with
    the connection it came on, it is acknowledged through the session, and a publish the
    client will not take raises instead of returning a code that callers ignored."""
    endpoint = MqttEndpoint.from_url(mosquitto.url)
    topic = f"gasguard/probe/{uuid.uuid4().hex}"
    options = SessionOptions(manual_ack=True)
    session = MqttSession(endpoint, f"t-{uuid.uuid4().hex[:8]}", [(topic, 1)], "t", options)
    with pytest.raises(PublishRefused, match=r"not currently connected|no connection"):
        session.publish(topic, b"lost", qos=0)  # QoS 0 with no connection: not kept
    session.publish(topic, b"kept", qos=1)  # QoS 1 is kept for the connection: no error
    received: list[Incoming] = []
    session.on_message(lambda m: received.append(m) if m.payload == b"now" else None)
    session.start()
    try:
        assert session.wait_ready(10)
        session.publish(topic, b"now", qos=1)
        wait_until(lambda: len(received) == 1, 10, "the message")
        (message,) = received
        assert (message.topic, message.payload, message.qos) == (topic, b"now", 1)
        assert message.generation == session.generation == 1
        assert session.acknowledge(received) == 1
        stale = dataclasses.replace(message, generation=0)  # from an earlier connection
        assert session.acknowledge([stale]) == 0
    finally:
        session.stop()
