"""Fault tests with real processes: the ingester SIGKILLed, InfluxDB stopped, Mosquitto
restarted, and a corpus of bad input interleaved with good traffic. Every reading the
broker acknowledged to the publisher must end up in InfluxDB exactly once."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from gasguard.servers import InfluxServer, MosquittoServer
from telemetry import InfluxTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import MqttProbe, settings_for, start_ingester, wait_until
from tests.processes import IngestProcess, LoadPublisher, stored_points

pytestmark = pytest.mark.integration


def assert_exactly_once(
    store: InfluxTelemetryStore, load: LoadPublisher, timeout_s: float = 90
) -> None:
    acknowledged = load.acknowledged()
    assert len(acknowledged) > load.count // 2, (
        "the publisher got too few acknowledgements to mean anything"
    )
    wait_until(
        lambda: acknowledged <= set(stored_points(store, load.prefix)),
        timeout_s,
        f"all {len(acknowledged)} acknowledged readings in InfluxDB",
    )
    repeats = [key for key, n in Counter(stored_points(store, load.prefix)).items() if n > 1]
    assert repeats == []


def test_sigkill_of_the_ingester_mid_stream_loses_nothing(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_store: InfluxTelemetryStore,
    tmp_path: Path,
) -> None:
    ingest = IngestProcess(tmp_path, mosquitto.url, influxd.url, influx_store.database)
    ingest.start()
    load = LoadPublisher(mosquitto.url, "KILL", meters=20, count=6000, rate=1500)
    try:
        load.start()
        time.sleep(1.5)
        ingest.kill()
        time.sleep(1.0)
        ingest.start()
        load.wait()
        assert len(load.acknowledged()) == load.count  # the broker was up throughout
        assert_exactly_once(influx_store, load)
    finally:
        load.stop()
        ingest.stop()


def test_influxdb_stopped_for_20_seconds_mid_stream_loses_nothing(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    influx = InfluxServer(tmp_path / "influxd")
    store = InfluxTelemetryStore(influx.url, "outage")
    store.ensure_database()
    ingest = IngestProcess(tmp_path, mosquitto.url, influx.url, "outage")
    ingest.start()
    load = LoadPublisher(mosquitto.url, "DOWN", meters=20, count=12_000, rate=400)
    try:
        load.start()
        time.sleep(2)
        influx.stop()
        time.sleep(20)
        spooled = ingest.metric("gasguard_ingest_readings_spooled_total")
        influx.start()
        load.wait()
        assert spooled > 0, "the outage should have sent readings to the spool"
        assert_exactly_once(store, load)
        wait_until(
            lambda: ingest.metric("gasguard_ingest_spool_records") == 0, 30, "the spool to drain"
        )
    finally:
        load.stop()
        ingest.stop()
        influx.stop()
        store.close()


def test_mosquitto_restarted_mid_stream_loses_nothing_it_accepted(
    influxd: InfluxServer, influx_store: InfluxTelemetryStore, tmp_path: Path
) -> None:
    broker = MosquittoServer(tmp_path / "mosquitto")
    ingest = IngestProcess(tmp_path, broker.url, influxd.url, influx_store.database)
    ingest.start()
    load = LoadPublisher(broker.url, "BRK", meters=20, count=6000, rate=1000)
    try:
        load.start()
        time.sleep(2)
        broker.stop()
        time.sleep(1)
        broker.start()
        load.wait(settle_s=20)
        assert ingest.metric("gasguard_ingest_reconnects_total") >= 1
        assert_exactly_once(influx_store, load)
    finally:
        load.stop()
        ingest.stop()
        broker.stop()


NOW_MS = time.time_ns() // 1_000_000
BAD_CORPUS: list[tuple[str, bytes, str]] = [
    ("telemetry", b"{not json", "not_json"),
    ("telemetry", b'{"ts": 1, "volume_m3": "\xff\xfe"}', "bad_utf8"),
    ("telemetry", json.dumps({"ts": NOW_MS, "volume_m3": "12"}).encode(), "wrong_type"),
    ("telemetry", json.dumps({"ts": NOW_MS, "flow_m3h": 0.1}).encode(), "missing_field"),
    ("telemetry", json.dumps({"ts": NOW_MS, "volume_m3": -5}).encode(), "out_of_range"),
    ("telemetry", b'{"ts": %d, "volume_m3": NaN}' % NOW_MS, "not_finite"),
    ("telemetry", b'{"ts": %d, "volume_m3": 1, "flow_m3h": Infinity}' % NOW_MS, "not_finite"),
    (
        "telemetry",
        json.dumps({"ts": NOW_MS + 2 * 86_400_000, "volume_m3": 1}).encode(),
        "ts_future",
    ),
    (
        "telemetry",
        json.dumps({"ts": NOW_MS - 3 * 365 * 86_400_000, "volume_m3": 1}).encode(),
        "ts_past",
    ),
    ("telemetry", b"[" + b"1," * 140_000 + b"1]", "too_large"),
    (
        "telemetry",
        json.dumps({"ts": NOW_MS, "volume_m3": 1, "meter": "SOMEONE-ELSE"}).encode(),
        "meter_mismatch",
    ),
    ("events", json.dumps({"ts": NOW_MS, "event": "alien_landing"}).encode(), "unknown_event"),
]


def test_bad_input_interleaved_with_good_traffic(
    mosquitto: MosquittoServer, influx_store: InfluxTelemetryStore, tmp_path: Path
) -> None:
    registry = sqlite_registry(tmp_path)
    ingester = start_ingester(settings_for(mosquitto.url, tmp_path), registry, influx_store)
    probe = MqttProbe(mosquitto.url)
    good: list[int] = []
    try:
        for index, (kind, payload, _code) in enumerate(BAD_CORPUS):
            ts = NOW_MS - 600_000 + index * 2000
            probe.publish("gas/v1/meters/GOOD1/telemetry", {"ts": ts, "volume_m3": 10 + index})
            probe.publish(f"gas/v1/meters/BAD{index:02d}/{kind}", payload)
            good.append(ts)
        batch = {
            "seq": 1,
            "readings": [
                {"ts": NOW_MS - 1000, "volume_m3": 50},
                {"ts": NOW_MS - 900, "volume_m3": -1},
            ],
        }
        probe.publish("gas/v1/meters/GOOD1/telemetry", batch)
        probe.publish("gas/v1/meters/bad.meter!/telemetry", {"ts": NOW_MS, "volume_m3": 1})
        good.append(NOW_MS - 1000)
        expected_letters = len(BAD_CORPUS) + 2
        wait_until(
            lambda: registry.dead_letters.count() == expected_letters,
            what=f"{expected_letters} dead letters",
        )
        wait_until(lambda: influx_store.count("GOOD1") == len(good), what="every good reading")
        stored = influx_store.readings("GOOD1", NOW_MS - 3_600_000, NOW_MS + 1, 1000)
        assert [r.ts_ms for r in stored] == sorted(good)
        letters = {d.topic: d.code for d in registry.dead_letters.find(limit=100)}
        for index, (kind, _payload, code) in enumerate(BAD_CORPUS):
            assert letters[f"gas/v1/meters/BAD{index:02d}/{kind}"] == code, (index, kind)
        assert letters["gas/v1/meters/bad.meter!/telemetry"] == "bad_topic"
        assert letters["gas/v1/meters/GOOD1/telemetry"] == "out_of_range"
    finally:
        probe.close()
        ingester.stop()


def test_a_store_refusing_some_readings_dead_letters_only_those(
    mosquitto: MosquittoServer, influxd: InfluxServer, tmp_path: Path
) -> None:
    store = InfluxTelemetryStore(influxd.url, f"refuse_{uuid.uuid4().hex[:8]}")
    store.ensure_database()
    now = time.time_ns() // 1_000_000
    # An integer 'valve' field already in this shard: InfluxDB refuses string valves now.
    conflict = f"gas_reading,meter_id=OTHER valve=1i {now - 5000}".encode()
    store._request(
        "POST", "/write", params={"db": store.database, "precision": "ms"}, content=conflict
    )
    registry = sqlite_registry(tmp_path)
    ingester = start_ingester(settings_for(mosquitto.url, tmp_path), registry, store)
    probe = MqttProbe(mosquitto.url)
    try:
        readings = [
            {"ts": now - 4000, "volume_m3": 1.0, "valve": "open"},
            {"ts": now - 3000, "volume_m3": 1.5},
            {"ts": now - 2000, "volume_m3": 2.0, "valve": "open"},
        ]
        probe.publish("gas/v1/meters/REF1/telemetry", {"seq": 1, "readings": readings})
        wait_until(lambda: registry.dead_letters.count() == 2, what="the two refused readings")
        wait_until(lambda: store.count("REF1") == 1, what="the reading the store accepts")
        letters = registry.dead_letters.find()
        assert {d.code for d in letters} == {"store_rejected"}
        assert sorted(json.loads(d.payload)["ts"] for d in letters) == [now - 4000, now - 2000]
        assert "field type conflict" in letters[0].reason
    finally:
        probe.close()
        ingester.stop()
        store.close()
