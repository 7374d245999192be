"""Small helpers shared by integration tests: waiting, and a plain MQTT test client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from prometheus_client import CollectorRegistry

from contract.protocol import Command, CommandReply, parse_command
from contract.signing import sign_reply
from gasguard import wiring
from gasguard.settings import Settings, load_settings
from ingest.config import IngestConfig
from ingest.service import MqttIngester
from meters.command_store import NewCommand
from meters.registry import Registry
from meters.views import Actor
from simulators.config import SimulatorConfig
from telemetry.base import TelemetryStore
from transport.mqtt import MqttEndpoint, MqttSession, Protocol


def wait_until(
    predicate: Callable[[], object], timeout_s: float = 20.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


class MqttProbe:
    """A test-side MQTT client: publishes QoS 1 and records what arrives on its subscriptions."""

    def __init__(
        self, url: str, subscriptions: tuple[str, ...] = (), protocol: Protocol = "3.1.1"
    ) -> None:
        self.received: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        endpoint = MqttEndpoint.from_url(url, protocol=protocol)
        self.session = MqttSession(
            endpoint, f"probe-{uuid.uuid4().hex[:8]}", [(s, 1) for s in subscriptions], "probe"
        )
        self.client = self.session.client
        self.client.on_message = self._on_message
        self.session.start()
        assert self.session.wait_ready(10), "probe did not connect and subscribe"

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.received.append((msg.topic, bytes(msg.payload)))

    def messages(self, topic_part: str = "") -> list[tuple[str, bytes]]:
        with self._lock:
            return [m for m in self.received if topic_part in m[0]]

    def publish(self, topic: str, payload: bytes | dict[str, Any] | str) -> None:
        if isinstance(payload, dict):
            payload = json.dumps(payload).encode()
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(10)
        assert info.is_published()

    def close(self) -> None:
        self.session.stop()


def settings_for(mqtt_url: str, data_dir: Path, **overrides: Any) -> Settings:
    ingest = IngestConfig(
        client_id=f"ingest-{uuid.uuid4().hex[:8]}",
        batch_max_wait_s=0.05,
        retry_initial_s=0.1,
        sightings_flush_s=0.2,
        retry_max_s=0.5,
        clears_poll_s=0.2,
        gas_on_refresh_s=0.2,
    )
    values: dict[str, Any] = {"mqtt_url": mqtt_url, "data_dir": data_dir, "ingest": ingest}
    values.update(overrides)
    return load_settings(None, **values)


def start_ingester(settings: Settings, registry: Registry, store: TelemetryStore) -> MqttIngester:
    ingester = wiring.build_ingester(settings, registry, store, CollectorRegistry())
    ingester.start()
    assert ingester.wait_connected(10), "ingester did not connect"
    return ingester


def act_as_meter(
    probe: MqttProbe, registry: Registry, meter_id: str, payload: bytes, valve: str = "closed"
) -> Command:
    """Answer a command the way a provisioned meter does: a signed ``done`` reply, then a
    reading showing the valve (the telemetry that confirms it)."""
    command = parse_command(meter_id, payload)
    key = registry.commands.meter_keys([meter_id])[meter_id]
    now = time.time_ns() // 1_000_000
    reply = sign_reply(key, CommandReply(command.command_id, meter_id, "done", now, valve))
    probe.publish(f"gas/v1/meters/{meter_id}/replies", reply.to_payload())
    probe.publish(
        f"gas/v1/meters/{meter_id}/telemetry", {"ts": now + 1, "volume_m3": 1.0, "valve": valve}
    )
    return command


def one_leak_fleet(meters: int, prefix: str, leak_after_s: float) -> SimulatorConfig:
    """A small fleet reporting every 0.5 s in which one meter's gas detector goes off
    ``leak_after_s`` after the start (the end-to-end tests' scenario)."""
    return SimulatorConfig(
        meters=meters,
        report_interval_s=0.5,
        id_prefix=prefix,
        client_id=f"{prefix.lower()}-sim",
        leak_faults=1,
        leak_after_s=leak_after_s,
        over_flow_faults=0,
        micro_flow_faults=0,
    )


def gasguard(
    *args: str, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The ``gasguard`` command as a user runs it (exit status left to the caller);
    ``env``: variables added to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "gasguard.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )


def gas_on(registry: Registry, application_id: int, meter_id: str, at_ms: int) -> None:
    """Stage two done at ``at_ms``: the meter (commissioned before) flows, and the utility
    records gas-on, as ingest and an operator would."""
    from meters.views import Actor

    registry.connections.first_flow({meter_id: at_ms}, at_ms)
    registry.connections.record_gas_on(
        application_id, Actor("otto", "operator", "test"), at_ms, at_ms
    )


# A device profile of meters asleep on MQTT, time compressed: they wake every 3 s and
# listen 1 s after each uplink (the simulator's sleeping meters, sleeping_listen_s = 1)
SLEEPY_PROFILE: dict[str, Any] = {
    "codec": "gasguard-json",
    "transport": "mqtt",
    "report_interval_s": 3,
    "window": "wakes",
    "wake_every_s": 3,
    "listen_s": 1,
    "command_ttl_s": 60,
}


def quiet_fleet(meters: int, prefix: str, **more: Any) -> SimulatorConfig:
    """A fleet reporting every second with no injected faults, plus ``more`` (the mixed
    fleets' meters of other profiles)."""
    return SimulatorConfig(
        meters=meters,
        id_prefix=prefix,
        client_id=f"{prefix.lower()}-sim",
        report_interval_s=1,
        leak_faults=0,
        over_flow_faults=0,
        micro_flow_faults=0,
        **more,
    )


def operator_closes(registry: Registry, meter_ids: Iterable[str]) -> dict[str, str]:
    """An operator's close to each meter: meter id -> command id."""
    now_ms = time.time_ns() // 1_000_000
    otto = Actor("otto", "operator", "test")
    return {
        meter_id: registry.commands.create(
            NewCommand(meter_id, "close", "test close", "maintenance"), otto, now_ms, 3_600_000
        )[0].id
        for meter_id in meter_ids
    }
