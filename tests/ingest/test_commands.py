"""Valve commands end to end on real Mosquitto: the ingester's dispatcher and a meter that
checks signatures, counters and expiry (the simulator's meter logic) on its own MQTT
session. Timings are shrunk: a reply timeout of 0.3 s stands for 20 s, and so on."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from contract.profiles import MeterProfile
from contract.protocol import parse_command, reading_to_json, topic
from contract.signing import sign_command
from gasguard.servers import InfluxServer, MosquittoServer
from ingest.config import CommandsConfig
from ingest.service import MqttIngester
from meters.command_store import NewCommand
from meters.registry import Registry
from meters.views import Actor
from simulators.meter import SimMeter
from telemetry import SqliteTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import MqttProbe, settings_for, start_ingester, wait_until
from tests.processes import IngestProcess
from transport.mqtt import MqttEndpoint, MqttSession, SessionOptions

OTTO = Actor("otto", "operator", "10.0.0.7")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class WireMeter:
    """A meter on its own persistent MQTT session: it gets the commands queued for it
    while it was offline when it comes back, acts on valid ones, replies (signed) and
    reports its valve in telemetry."""

    def __init__(self, url: str, sim: SimMeter) -> None:
        self.sim = sim
        self.acted: list[str] = []
        self.url = url
        self._lock = threading.Lock()
        self.session: MqttSession | None = None

    def online(self) -> None:
        self.session = MqttSession(
            MqttEndpoint.from_url(self.url, protocol="3.1.1"),
            f"meter-{self.sim.meter_id}",
            [(topic(self.sim.meter_id, "commands"), 1)],
            f"meter {self.sim.meter_id}",
            SessionOptions(persistent=True),
        )
        self.session.client.on_message = self._on_command
        self.session.start()
        assert self.session.wait_ready(10)

    def offline(self) -> None:
        if self.session is not None:
            self.session.stop()
            self.session = None

    def _on_command(self, client: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        command = parse_command(self.sim.meter_id, bytes(msg.payload))
        with self._lock:
            counter_before, valve_before = self.sim.last_counter, self.sim.valve
            reply = self.sim.handle(command, now_ms())
            if self.sim.last_counter != counter_before:
                self.acted.append(f"{command.action} {valve_before}->{self.sim.valve}")
            reading = self.sim.read(now_ms() + 1)
        client.publish(topic(self.sim.meter_id, "replies"), reply.to_payload(), qos=1)
        self.publish(client, reading_to_json(reading))

    def publish(
        self, client: paho.Client, body: dict[str, object], kind: str = "telemetry"
    ) -> None:
        client.publish(topic(self.sim.meter_id, kind), json.dumps(body).encode(), qos=1)

    def report(self, offset_ms: int = 0) -> None:
        assert self.session is not None
        with self._lock:
            reading = self.sim.read(now_ms() + offset_ms)
        self.publish(self.session.client, reading_to_json(reading))


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("V1")], now_ms())
    return registry


def ingester_for(
    mosquitto: MosquittoServer, registry: Registry, folder: Path, **timing: float
) -> MqttIngester:
    commands = CommandsConfig(
        **{"reply_timeout_s": 0.3, "retry_max_s": 0.6, "dispatch_poll_s": 0.1, **timing}
    )
    settings = settings_for(mosquitto.url, folder)
    settings = settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"commands": commands})}
    )
    return start_ingester(settings, registry, SqliteTelemetryStore(folder / "t.db"))


def issue(registry: Registry, action: str, reason: str, ttl_ms: int = 60_000) -> str:
    """Queue a command as the API does (the dispatcher publishes it); its id."""
    command, _ = registry.commands.create(NewCommand("V1", action, reason), OTTO, now_ms(), ttl_ms)
    return command.id


def wait_state(registry: Registry, command_id: str, state: str) -> None:
    wait_until(lambda: registry.commands.get(command_id).state == state, what=state)


@pytest.fixture
def meter(mosquitto: MosquittoServer, registry: Registry) -> Iterator[WireMeter]:
    key = registry.commands.meter_keys(["V1"])["V1"]
    wire = WireMeter(mosquitto.url, SimMeter(MeterProfile("V1"), volume_m3=5.0, key=key))
    wire.online()
    wire.offline()  # the broker now keeps a session for it
    yield wire
    wire.offline()


def test_a_meter_offline_at_the_close_gets_it_when_back_and_acts_once(
    mosquitto: MosquittoServer, registry: Registry, meter: WireMeter, tmp_path: Path
) -> None:
    ingester = ingester_for(mosquitto, registry, tmp_path)
    try:
        command_id = issue(registry, "close", "smell of gas", 60_000)
        wait_until(lambda: registry.commands.get(command_id).attempts >= 3, what="retries")
        assert registry.commands.get(command_id).state == "sent"
        meter.online()  # "ten minutes later"
        wait_state(registry, command_id, "succeeded")
        assert meter.acted == ["close open->closed"]  # every resend confirmed, acted once
        assert len(registry.commands.find("V1")) == 1
    finally:
        ingester.stop()


def test_a_command_past_its_expiry_is_expired_with_an_alarm_and_refused_by_the_meter(
    mosquitto: MosquittoServer, registry: Registry, meter: WireMeter, tmp_path: Path
) -> None:
    ingester = ingester_for(mosquitto, registry, tmp_path)
    try:
        command_id = issue(registry, "close", "leak", 1_000)
        wait_state(registry, command_id, "expired")
        (alarm,) = registry.alarms.find(meter_id="V1")
        assert (alarm.rule, alarm.action) == ("command_expired", "alarm")
        meter.online()
        wait_until(lambda: "expired" in meter.sim.rejected, what="the meter to refuse it")
        assert meter.acted == [] and meter.sim.valve == "open"
        assert registry.commands.get(command_id).state == "expired"
    finally:
        ingester.stop()


def test_forged_altered_and_replayed_commands_are_refused_by_the_meter(
    mosquitto: MosquittoServer, registry: Registry, meter: WireMeter, tmp_path: Path
) -> None:
    ingester = ingester_for(mosquitto, registry, tmp_path)
    meter.online()
    attacker = MqttProbe(mosquitto.url)
    try:
        first_id = issue(registry, "close", "test", 60_000)
        wait_state(registry, first_id, "succeeded")
        captured = registry.commands.signed(registry.commands.get(first_id))
        arm_id = issue(registry, "arm", "ok", 60_000)
        wait_state(registry, arm_id, "succeeded")
        forged = sign_command(
            "00" * 32,
            captured.__class__(
                str(uuid.uuid4()), "V1", "open", now_ms(), "forged", 99, now_ms() + 60_000
            ),
        )
        altered = captured.__class__(
            captured.command_id,
            "V1",
            "open",
            captured.issued_ms,
            captured.reason,
            captured.counter + 5,
            captured.expires_ms,
            captured.signature,
        )
        for command in (forged, altered, captured):  # captured: replayed after the arm
            attacker.publish(topic("V1", "commands"), command.to_payload())
        wait_until(lambda: len(meter.sim.rejected) == 3, what="three refusals")
        assert meter.sim.rejected == ["bad_signature", "bad_signature", "replayed"]
        assert meter.acted == ["close open->closed", "arm closed->closed"]

        def refusals() -> int:
            alarms = registry.alarms.find(meter_id="V1")
            return sum(a.repeat_count for a in alarms if a.rule == "command_refused")

        wait_until(lambda: refusals() == 3, what="the three refusals reported as alarms")
        (letter,) = registry.dead_letters.find()  # the forged one: an id the server never used
        assert letter.code == "unknown_command"
    finally:
        attacker.close()
        ingester.stop()


def test_a_counter_the_meter_saw_with_another_command_is_signed_again_and_acted_on_once(
    mosquitto: MosquittoServer, registry: Registry, meter: WireMeter, tmp_path: Path
) -> None:
    """A meter that acted on another command with counter 1 (two commands given one
    counter before counters were allocated atomically) refuses the new close with
    ``counter_reused``; the server signs it again with a fresh counter and the meter
    closes, once, with no refusal alarm."""
    meter.sim.last_counter, meter.sim.last_command_id = 1, "legacy-arm"
    ingester = ingester_for(mosquitto, registry, tmp_path)
    meter.online()
    try:
        command_id = issue(registry, "close", "leak", 60_000)
        wait_state(registry, command_id, "succeeded")
        assert meter.sim.rejected == ["counter_reused"]
        assert meter.acted == ["close open->closed"]
        final = registry.commands.get(command_id)
        assert final.counter == 2 and meter.sim.last_command_id == command_id
        assert [a.rule for a in registry.alarms.find(meter_id="V1")] == []
    finally:
        ingester.stop()


def test_a_command_in_flight_when_the_ingester_is_killed_is_resumed_after_restart(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    registry: Registry,
    meter: WireMeter,
    tmp_path: Path,
) -> None:
    """SIGKILL ``gasguard ingest`` while its close waits for an offline meter; the next
    run carries the same command on (same id, counter) and the meter acts once."""
    process = IngestProcess(
        tmp_path,
        mosquitto.url,
        influxd.url,
        "commands_kill",
        GASGUARD_DB_URL=f"sqlite:///{tmp_path / 'registry.sqlite3'}",
        GASGUARD_INGEST__COMMANDS__REPLY_TIMEOUT_S="0.3",
        GASGUARD_INGEST__COMMANDS__RETRY_MAX_S="0.6",
        GASGUARD_INGEST__COMMANDS__DISPATCH_POLL_S="0.1",
    )
    try:
        process.start()
        command_id = issue(registry, "close", "leak", 60_000)
        wait_until(lambda: registry.commands.get(command_id).attempts >= 2, what="in flight")
        process.kill()
        assert registry.commands.get(command_id).state == "sent"
        process.start()
        meter.online()
        wait_state(registry, command_id, "succeeded")
        assert meter.acted == ["close open->closed"]
        assert [c.id for c in registry.commands.find("V1")] == [command_id]
    finally:
        process.stop()


def test_arm_then_button_with_an_appliance_left_open_closes_again(
    mosquitto: MosquittoServer, registry: Registry, meter: WireMeter, tmp_path: Path
) -> None:
    ingester = ingester_for(mosquitto, registry, tmp_path)
    meter.online()
    try:
        close_id = issue(registry, "close", "leak", 60_000)
        wait_state(registry, close_id, "succeeded")
        arm_id = issue(registry, "arm", "checked", 60_000)
        wait_state(registry, arm_id, "succeeded")
        meter.sim.appliance_open_m3h = 0.4  # a burner left open
        event = meter.sim.press_button(now_ms())
        assert event is not None
        assert meter.session is not None
        meter.publish(meter.session.client, {"ts": event.ts_ms, "event": "valve_opened"}, "events")
        meter.report(offset_ms=30_000)
        meter.report(offset_ms=60_000)
        wait_until(
            lambda: any(a.rule == "reopen_flow" for a in registry.alarms.find(meter_id="V1")),
            what="the reopen alarm",
        )
        wait_until(lambda: meter.sim.valve == "closed", what="closed again")
        assert meter.acted[-1] == "close open->closed"
    finally:
        ingester.stop()
