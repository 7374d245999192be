"""The ingester on a real Mosquitto: stores, dead-letters, shuts valves, loses nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connections.applications import NewApplication
from contract.profiles import MeterProfile
from contract.protocol import parse_command
from gasguard.servers import InfluxServer, MosquittoServer
from gasguard.settings import Settings
from ingest.service import MqttIngester
from meters.registry import Registry
from meters.views import Actor
from telemetry import InfluxTelemetryStore, SqliteTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import MqttProbe, act_as_meter, settings_for, start_ingester, wait_until

T0 = 1_790_000_000_000


@pytest.fixture
def probe(mosquitto: MosquittoServer) -> Iterator[MqttProbe]:
    client = MqttProbe(mosquitto.url, ("gas/v1/meters/+/commands",))
    yield client
    client.close()


@dataclass
class Stack:
    """A registry, a SQLite telemetry store and settings for ingesters on the test broker."""

    registry: Registry
    store: SqliteTelemetryStore
    settings: Settings

    def start(self) -> MqttIngester:
        return start_ingester(self.settings, self.registry, self.store)


@pytest.fixture
def stack(mosquitto: MosquittoServer, tmp_path: Path) -> Stack:
    return Stack(
        sqlite_registry(tmp_path),
        SqliteTelemetryStore(tmp_path / "telemetry.sqlite3"),
        settings_for(mosquitto.url, tmp_path),
    )


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def test_good_readings_are_stored_and_bad_ones_dead_lettered_without_stopping(
    stack: Stack, probe: MqttProbe
) -> None:
    registry, store = stack.registry, stack.store
    ingester = stack.start()
    try:
        start = now_ms() - 60_000
        for i in range(10):
            probe.publish(
                "gas/v1/meters/IA/telemetry", {"ts": start + i * 1000, "volume_m3": 1 + i / 1000}
            )
        probe.publish("gas/v1/meters/IA/telemetry", b"{not json")
        batch = [
            {"ts": start + 20_000, "volume_m3": 2.0},
            {"ts": start + 21_000, "volume_m3": "x"},
            {"ts": start + 22_000, "volume_m3": 2.1},
        ]
        probe.publish("gas/v1/meters/IB/telemetry", {"seq": 1, "readings": batch})
        probe.publish("gas/v1/meters/IB/events", {"ts": start, "event": "meteor"})
        probe.publish("gas/v1/meters/bad.id/telemetry", {"ts": start, "volume_m3": 1})
        wait_until(lambda: registry.dead_letters.count() == 4, what="4 dead letters")
        wait_until(lambda: store.count() == 12, what="12 readings stored")
        reasons = sorted(d.reason for d in registry.dead_letters.find())
        assert any("not JSON" in r for r in reasons)
        assert any("reading 1: field 'volume_m3' must be a number" in r for r in reasons)
        assert any("unknown event 'meteor'" in r for r in reasons)
        assert any("invalid meter id" in r for r in reasons)
        probe.publish(
            "gas/v1/meters/IA/telemetry", {"ts": start + 30_000, "volume_m3": 1.5, "valve": "open"}
        )
        wait_until(lambda: store.count() == 13, what="the stream to go on after bad input")
        wait_until(
            lambda: any(
                m.id == "IA" and m.last_reading_ms == start + 30_000 for m in registry.meters.find()
            ),
            what="the registry to record the newest reading",
        )
        assert registry.meters.get("IA").valve == "open"
    finally:
        ingester.stop()


def test_a_detector_alarm_closes_the_valve_and_the_reply_settles_the_command(
    mosquitto: MosquittoServer, probe: MqttProbe, tmp_path: Path
) -> None:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("LEAK1")], now_ms())
    ingester = start_ingester(
        settings_for(mosquitto.url, tmp_path), registry, SqliteTelemetryStore(tmp_path / "t.db")
    )
    try:
        probe.publish("gas/v1/meters/LEAK1/events", {"ts": now_ms(), "event": "detector_alarm"})
        wait_until(lambda: probe.messages("LEAK1/commands"), what="a close command")
        _topic, payload = probe.messages("LEAK1/commands")[0]
        command = parse_command("LEAK1", payload)
        assert command.action == "close" and "leak_detector" in command.reason
        assert (command.counter, command.expires_ms > command.issued_ms) == (1, True)
        (alarm,) = registry.alarms.find(state="active")
        assert (alarm.meter_id, alarm.rule, alarm.action) == ("LEAK1", "leak_detector", "shutoff")
        commands = registry.commands
        wait_until(lambda: commands.get(command.command_id).state == "sent", what="sent")
        act_as_meter(probe, registry, "LEAK1", payload)
        wait_until(lambda: commands.get(command.command_id).state == "succeeded", what="succeeded")
        final = commands.get(command.command_id)
        assert final.delivered_ms is not None and final.finished_ms is not None
        assert registry.meters.get("LEAK1").valve == "closed"
        assert registry.meters.get("LEAK1").closures == ("safety",)
        audit = [e for e in registry.audit.entries() if e.action == "command.close"]
        assert audit[0].actor == "gasguard-safety" and "leak_detector" in audit[0].reason
    finally:
        ingester.stop()


def test_an_operator_clear_lets_the_rule_fire_again(
    mosquitto: MosquittoServer, probe: MqttProbe, tmp_path: Path
) -> None:
    """The leak detector's episode stays open until the detector clears; an operator who
    clears the alarm (through the registry, as the API does) ends it in the engine too,
    so the next detector alarm opens a new alarm and closes the valve again."""
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("CLR1")], now_ms())
    ingester = start_ingester(
        settings_for(mosquitto.url, tmp_path), registry, SqliteTelemetryStore(tmp_path / "t.db")
    )
    alarm_event = {"ts": now_ms(), "event": "detector_alarm"}
    try:
        probe.publish("gas/v1/meters/CLR1/events", alarm_event)
        wait_until(lambda: registry.alarms.find(meter_id="CLR1"), what="the first alarm")
        probe.publish("gas/v1/meters/CLR1/events", {**alarm_event, "ts": now_ms()})
        time.sleep(0.5)  # the same episode: nothing new may follow
        (first,) = registry.alarms.find(meter_id="CLR1")
        assert first.repeat_count == 1 and len(probe.messages("CLR1/commands")) == 1
        (close,) = registry.commands.find("CLR1")  # the meter closes and says so
        act_as_meter(probe, registry, "CLR1", probe.messages("CLR1/commands")[0][1])
        wait_until(lambda: registry.commands.get(close.id).state == "succeeded", what="reply")
        registry.alarms.clear(first.id, Actor("otto", "operator", "test"), "reset", now_ms())
        time.sleep(0.6)  # the ingester polls for clears every 0.2 s
        probe.publish("gas/v1/meters/CLR1/events", {**alarm_event, "ts": now_ms()})
        wait_until(lambda: len(registry.alarms.find(meter_id="CLR1")) == 2, what="a second alarm")
        states = [a.state for a in registry.alarms.find(meter_id="CLR1")]
        assert states == ["active", "cleared"]
        wait_until(lambda: len(probe.messages("CLR1/commands")) >= 2, what="a second close")
    finally:
        ingester.stop()


def test_nothing_is_lost_while_influxdb_is_down(
    mosquitto: MosquittoServer, probe: MqttProbe, tmp_path: Path
) -> None:
    influx = InfluxServer(tmp_path / "influxd")
    store = InfluxTelemetryStore(influx.url, "outage", timeout_s=2)
    store.ensure_database()
    registry = sqlite_registry(tmp_path)
    ingester = start_ingester(settings_for(mosquitto.url, tmp_path), registry, store)
    try:
        start = now_ms() - 3_600_000
        probe.publish("gas/v1/meters/OUT1/telemetry", {"ts": start, "volume_m3": 1.0})
        wait_until(lambda: store.count("OUT1") == 1, what="the first reading")
        influx.kill()
        for i in range(1, 21):
            probe.publish(
                "gas/v1/meters/OUT1/telemetry", {"ts": start + i * 1000, "volume_m3": 1.0 + i / 100}
            )
        influx.start()
        wait_until(
            lambda: store.ping() and store.count("OUT1") == 21, timeout_s=60, what="all 21 readings"
        )
        stored = store.readings("OUT1", start, start + 60_000, 100)
        assert [r.ts_ms for r in stored] == [start + i * 1000 for i in range(21)]
    finally:
        ingester.stop()
        influx.stop()


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_readings_published_while_the_ingester_is_down_arrive_after_restart(
    stack: Stack, probe: MqttProbe, protocol: str
) -> None:
    """The persistent session keeps what arrives while the ingester is away, with either
    protocol (3.1.1 ``clean_session=False``, 5 ``clean_start=False`` + session expiry)."""
    stack.settings = stack.settings.model_copy(update={"mqtt_protocol": protocol})
    store = stack.store
    first = stack.start()
    start = now_ms() - 60_000
    probe.publish("gas/v1/meters/RST1/telemetry", {"ts": start, "volume_m3": 1.0})
    wait_until(lambda: store.count("RST1") == 1, what="the first reading")
    first.stop()
    for i in range(1, 11):
        probe.publish("gas/v1/meters/RST1/telemetry", {"ts": start + i * 1000, "volume_m3": 1.0})
    second = stack.start()
    try:
        wait_until(lambda: store.count("RST1") == 11, what="the 10 readings kept by the broker")
    finally:
        second.stop()


def test_readings_replayed_after_a_restart_do_not_raise_a_second_alarm(
    stack: Stack, probe: MqttProbe, tmp_path: Path
) -> None:
    registry, store = stack.registry, stack.store
    start = now_ms() - 3_600_000
    over_flow = [
        {"ts": start + i * 60_000, "volume_m3": 10 + 6.0 * i / 60, "flow_m3h": 6.0}
        for i in range(4)
    ]
    first = stack.start()
    for reading in over_flow:
        probe.publish("gas/v1/meters/RPL1/telemetry", reading)
    wait_until(lambda: registry.alarms.find(meter_id="RPL1"), what="the over_flow alarm")
    first.stop()
    # A crash before the first engine snapshot: the next ingester starts with empty rule
    # state and sees the same readings again.
    (tmp_path / "engine-snapshot.npz").unlink()
    second = stack.start()
    try:
        probe.publish("gas/v1/meters/RPL1/telemetry", {"seq": 1, "readings": over_flow})
        wait_until(
            lambda: registry.alarms.find(meter_id="RPL1")[0].repeat_count == 2, what="a repeat"
        )
        (alarm,) = registry.alarms.find(meter_id="RPL1")
        assert (alarm.rule, alarm.state) == ("over_flow", "active")
        assert store.count("RPL1") == 4
    finally:
        second.stop()


def test_engine_state_survives_an_ingester_restart(
    stack: Stack, probe: MqttProbe, tmp_path: Path
) -> None:
    """A micro-flow episode three hours old at the restart still fires on time after it."""
    registry, store = stack.registry, stack.store
    start = now_ms() - 6 * 3_600_000

    def readings(minutes: range) -> dict[str, object]:
        return {
            "seq": minutes.start,
            "readings": [
                {
                    "ts": start + m * 60_000,
                    "volume_m3": round(100 + 0.012 * m / 60, 6),
                    "flow_m3h": 0.012,
                }
                for m in minutes
            ],
        }

    first = stack.start()
    probe.publish("gas/v1/meters/SNAP1/telemetry", readings(range(0, 180)))
    wait_until(lambda: store.count("SNAP1") == 180, what="three hours of readings")
    first.stop()  # a clean stop writes the engine snapshot
    assert (tmp_path / "engine-snapshot.npz").exists()
    second = stack.start()
    try:
        probe.publish("gas/v1/meters/SNAP1/telemetry", readings(range(180, 300)))
        wait_until(lambda: registry.alarms.find(meter_id="SNAP1"), what="the micro-flow alarm")
        (alarm,) = registry.alarms.find(meter_id="SNAP1")
        assert (alarm.rule, alarm.opened_ts_ms) == ("micro_flow", start + 241 * 60_000)
    finally:
        second.stop()


def test_a_stop_in_the_middle_of_a_batch_does_not_lose_its_alarm_and_close(
    stack: Stack, probe: MqttProbe, tmp_path: Path
) -> None:
    """The alarm step fails (registry errors, retried) and the ingester is stopped: the
    batch stays unacknowledged. Its engine state must not be saved, or the redelivered
    detector alarm would look old to the next run and no alarm or close would follow.
    Before, the stop saved the snapshot with the batch in it and the leak was lost."""
    from meters.errors import RegistryError

    registry = stack.registry
    registry.meters.provision([MeterProfile("MID1")], now_ms())
    first = stack.start()

    def registry_down(*_args: object) -> list[object]:
        raise RegistryError("injected: registry unreachable")

    first._pipeline.actuator.record = registry_down  # type: ignore[method-assign]
    probe.publish("gas/v1/meters/MID1/events", {"ts": now_ms(), "event": "detector_alarm"})
    wait_until(lambda: first._engine_ahead, what="the batch decided, its alarm failing")
    first.stop()
    assert registry.alarms.find(meter_id="MID1") == []
    second = stack.start()
    try:
        wait_until(lambda: registry.alarms.find(meter_id="MID1"), what="the redelivered leak")
        (alarm,) = registry.alarms.find(meter_id="MID1")
        assert alarm.rule == "leak_detector"
        wait_until(lambda: probe.messages("MID1/commands"), what="its close")
    finally:
        second.stop()


def test_the_first_flow_of_a_commissioned_meter_confirms_the_recorded_gas_on(
    stack: Stack, probe: MqttProbe
) -> None:
    """The utility records gas-on (验收通气); the meter's first reading with flow after
    commissioning confirms it, and only then is the application done."""
    registry = stack.registry
    registry.meters.provision([MeterProfile("NEW1")], now_ms())
    otto = Actor("otto", "operator", "t")
    new = NewApplication("guangzhou", "none", "online", "Li", "13900139000", "Haizhu 1")
    application = registry.connections.create(new, otto, now_ms())
    registry.connections.commission(application.id, "NEW1", otto, now_ms())
    recorded_at = now_ms()
    registry.connections.record_gas_on(application.id, otto, recorded_at, recorded_at)
    assert registry.connections.get(application.id).state == "open"  # not confirmed yet
    ingester = stack.start()
    try:
        time.sleep(0.5)  # the ingester learns which meters await gas-on
        first = now_ms()
        probe.publish(
            "gas/v1/meters/NEW1/telemetry", {"ts": first, "volume_m3": 0.0, "flow_m3h": 0}
        )
        probe.publish(
            "gas/v1/meters/NEW1/telemetry",
            {"ts": first + 60_000, "volume_m3": 0.0, "flow_m3h": 0.3},
        )
        wait_until(lambda: registry.connections.get(application.id).state == "done", what="gas on")
        done = registry.connections.get(application.id)
        assert (done.gas_on_ms, done.first_flow_ms) == (recorded_at, first + 60_000)
        (entry,) = [e for e in registry.audit.entries() if e.action == "connection.gas_on"]
        assert (entry.actor, entry.target) == (
            "gasguard-safety",
            f"connection:{application.number}",
        )
        assert entry.detail["first_flow_ms"] == first + 60_000
    finally:
        ingester.stop()
