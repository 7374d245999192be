"""Nothing stops a lane silently (issue 17, item 4), on real Mosquitto: clearing alarms the
engine does not raise, chores that fail, and a lane thread that dies. Before the fix, an
operator's clear of a command alarm raised KeyError in the clears chore, outside the
receive loop's guard: the lane's thread died while its lease was still renewed, and no
worker ever ran the partition again."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from contract.decisions import Decision
from contract.profiles import MeterProfile
from gasguard import wiring
from gasguard.servers import MosquittoServer
from ingest.chores import Chore, Chores
from ingest.service import MqttIngester
from ingest.supervisor import PartitionSupervisor
from meters.partition import Partition
from meters.registry import Registry
from meters.views import Actor
from telemetry import SqliteTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import MqttProbe, settings_for, start_ingester, wait_until

pytestmark = pytest.mark.integration
OTTO = Actor("otto", "operator", "test")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@pytest.fixture
def probe(mosquitto: MosquittoServer) -> Iterator[MqttProbe]:
    client = MqttProbe(mosquitto.url, ("gas/v1/meters/+/commands",))
    yield client
    client.close()


def leak_is_detected(probe: MqttProbe, registry: Registry, meter: str) -> None:
    """The lane still detects: a detector alarm opens a shutoff and a close goes out."""
    probe.publish(f"gas/v1/meters/{meter}/events", {"ts": now_ms(), "event": "detector_alarm"})
    wait_until(
        lambda: any(a.rule == "leak_detector" for a in registry.alarms.find(meter_id=meter)),
        what=f"a leak alarm on {meter}",
    )
    wait_until(lambda: probe.messages(f"{meter}/commands"), what=f"a close to {meter}")


def test_clearing_command_and_connection_alarms_while_ingesting_keeps_the_lane_running(
    mosquitto: MosquittoServer, probe: MqttProbe, tmp_path: Path
) -> None:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("NS1"), MeterProfile("NS2")], now_ms())
    store = SqliteTelemetryStore(tmp_path / "t.db")
    ingester = start_ingester(settings_for(mosquitto.url, tmp_path), registry, store)
    try:
        probe.publish("gas/v1/meters/NS1/telemetry", {"ts": now_ms(), "volume_m3": 1.0})
        wait_until(lambda: store.count() == 1, what="the meter known to the engine")
        kinds = ["command_failed", "command_expired", "command_timed_out", "command_refused"]
        alarms = [
            registry.alarms.record(Decision(now_ms(), "NS1", rule, "alarm", {}), now_ms())[0]
            for rule in kinds
        ]
        connection = Decision(now_ms(), "GZ-2026-000001", "connection_overdue", "alarm", {})
        alarms.append(registry.alarms.record(connection, now_ms())[0])
        for alarm in alarms:
            registry.alarms.clear(alarm.id, OTTO, "handled", now_ms())
        time.sleep(1.0)  # several clears polls (every 0.2 s)
        assert ingester.alive()
        probe.publish("gas/v1/meters/NS1/telemetry", {"ts": now_ms(), "volume_m3": 1.1})
        wait_until(lambda: store.count() == 2, what="readings stored after the clears")
        leak_is_detected(probe, registry, "NS2")
    finally:
        ingester.stop()


def test_every_chore_failing_is_counted_and_detection_goes_on(
    mosquitto: MosquittoServer, probe: MqttProbe, tmp_path: Path
) -> None:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("CF1")], now_ms())
    store = SqliteTelemetryStore(tmp_path / "t.db")
    metrics = CollectorRegistry()
    settings = settings_for(mosquitto.url, tmp_path)
    ingester = wiring.build_ingester(settings, registry, store, metrics)
    names = [chore.name for chore in ingester._chores.chores]
    assert names == [
        "spool",
        "sightings",
        "snapshots",
        "clears",
        "gas-on",
        "meter profiles",
        "rule profiles",
        "connection watch",
        "completeness",
        "dead-letter expiry",
        "commands",
    ]

    def failing(name: str) -> Chore:
        def boom() -> None:
            raise RuntimeError(f"injected failure in {name}")

        return Chore(name, boom)

    # every chore failing at every round (due at once: no cadence, no first wait)
    counter = ingester._pipeline.metrics.chore_failures
    ingester._chores = Chores([failing(name) for name in names], counter)
    ingester.start()
    assert ingester.wait_connected(10)
    try:
        probe.publish("gas/v1/meters/CF1/telemetry", {"ts": now_ms(), "volume_m3": 1.0})
        wait_until(lambda: store.count() == 1, what="a reading stored")
        leak_is_detected(probe, registry, "CF1")

        def failures(name: str) -> float:
            value = metrics.get_sample_value(
                "gasguard_ingest_chore_failures_total", {"chore": name}
            )
            return value or 0.0

        wait_until(lambda: all(failures(n) >= 2 for n in names), what="every failure counted")
        assert ingester.alive()
    finally:
        ingester.stop()


def worker(
    settings_dir: Path, mosquitto: MosquittoServer, index: int, client_id: str
) -> tuple[PartitionSupervisor, CollectorRegistry]:
    settings = settings_for(mosquitto.url, settings_dir)
    ingest = settings.ingest.model_copy(
        update={
            "client_id": client_id,
            "partition": index,
            "partitions": 2,
            "lease_ttl_s": 2.0,
            "lease_renew_s": 0.5,
            "health_every_s": 0.5,
        }
    )
    settings = settings.model_copy(update={"ingest": ingest})
    registry = sqlite_registry(settings_dir)
    store = SqliteTelemetryStore(settings_dir / "telemetry.sqlite3")
    metrics = CollectorRegistry()
    return wiring.build_ingest_worker(settings, registry, store, metrics), metrics


def test_a_dead_lane_thread_is_reported_and_its_partition_taken_over(
    mosquitto: MosquittoServer, probe: MqttProbe, tmp_path: Path
) -> None:
    registry = sqlite_registry(tmp_path)
    meters = [f"DL{i}" for i in range(12)]
    registry.meters.provision([MeterProfile(m) for m in meters], now_ms())
    theirs = next(m for m in meters if Partition(1, 2).owns(m))
    client_id = f"dead-{uuid.uuid4().hex[:8]}"
    (w0, _m0), (w1, m1) = (worker(tmp_path, mosquitto, k, client_id) for k in (0, 1))
    w0.start()
    w1.start()
    try:
        wait_until(lambda: [p.index for p in w1.running()] == [1], what="w1 runs partition 1")
        assert w0.wait_connected(10) and w1.wait_connected(10)
        lane = w1._lanes[1]
        assert isinstance(lane, MqttIngester)

        def killed() -> list[object]:
            raise RuntimeError("injected: the lane's thread dies outside every guard")

        lane._next_batch = killed  # type: ignore[method-assign]
        wait_until(lambda: not lane.alive(), what="the lane's thread to die")
        wait_until(lambda: [p.index for p in w0.running()] == [0, 1], what="w0 takes it over")
        assert m1.get_sample_value("gasguard_ingest_lane_deaths_total") == 1.0
        wait_until(
            lambda: any("lane 1/2 died" in w.fault for w in registry.workers.list()),
            what="the dead lane in the worker's health report",
        )
        leak_is_detected(probe, registry, theirs)
    finally:
        w1.stop()
        w0.stop()
