"""CJ/T 188 meters end to end: a DTU publishes its meters' binary frames on real Mosquitto,
the ingester stores them in real InfluxDB as contract readings, and a garbage frame is
dead-lettered with its code while the rest of the stream is stored."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices import cjt188
from gasguard.servers import MosquittoServer
from telemetry import InfluxTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import MqttProbe, settings_for, start_ingester, wait_until

ADDRESS = "20260000000007"


@pytest.fixture
def dtu(mosquitto: MosquittoServer) -> Iterator[MqttProbe]:
    client = MqttProbe(mosquitto.url, ())
    yield client
    client.close()


def frame(volume_m3: float, at_ms: int, edition: cjt188.Edition) -> bytes:
    data = cjt188.MeterData(
        ADDRESS, 0, volume_m3, 0.0, at_ms, "open", False, cjt188.status_bits("open", False)
    )
    return cjt188.encode_frame(cjt188.meter_data_frame(data, edition))


def test_a_dtus_frames_are_stored_and_a_bad_one_is_dead_lettered(
    mosquitto: MosquittoServer,
    influx_store: InfluxTelemetryStore,
    dtu: MqttProbe,
    tmp_path: Path,
) -> None:
    registry = sqlite_registry(tmp_path)
    ingester = start_ingester(settings_for(mosquitto.url, tmp_path), registry, influx_store)
    topic = f"gas/v1/meters/{ADDRESS}/cjt188-up"
    start = (time.time_ns() // 1_000_000 // 1000 - 600) * 1000  # whole seconds: BCD time
    try:
        for i in range(5):
            edition: cjt188.Edition = "2004" if i % 2 else "2018"
            dtu.publish(topic, frame(10 + i / 100, start + i * 60_000, edition))
        corrupt = bytearray(frame(11.0, start + 300_000, "2004"))
        corrupt[-2] ^= 0xFF  # the checksum
        dtu.publish(topic, bytes(corrupt))
        dtu.publish(topic, frame(10.05, start + 360_000, "2004"))
        wait_until(lambda: influx_store.count(ADDRESS) == 6, what="6 readings in InfluxDB")
        wait_until(lambda: registry.dead_letters.count() == 1, what="the bad frame dead-lettered")
    finally:
        ingester.stop()
    readings = influx_store.readings(ADDRESS, start, start + 400_000, 10)
    assert [r.ts_ms for r in readings] == [start + i * 60_000 for i in (0, 1, 2, 3, 4, 6)]
    assert [r.volume_m3 for r in readings] == [10.0, 10.01, 10.02, 10.03, 10.04, 10.05]
    assert {r.valve for r in readings} == {"open"}
    (letter,) = registry.dead_letters.find()
    assert letter.reason.startswith("CJ/T 188: CS ")
    assert registry.meters.get(ADDRESS).last_reading_ms == start + 360_000
