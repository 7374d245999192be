"""One meter cannot exhaust the city's ingest (issue 18), on a real Mosquitto: its refused
messages are capped in the dead letters with a meter_flooding alarm naming it, and
another meter's readings are stored meanwhile; QoS 0 messages never grow the lane's queue
past its bound."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from gasguard import wiring
from gasguard.servers import MosquittoServer
from telemetry import SqliteTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import MqttProbe, settings_for, wait_until
from transport.mqtt import Incoming

pytestmark = pytest.mark.integration


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def test_a_flooding_meter_is_capped_and_named_and_the_others_go_on(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    registry = sqlite_registry(tmp_path)
    store = SqliteTelemetryStore(tmp_path / "t.db")
    settings = settings_for(mosquitto.url, tmp_path)
    ingest = settings.ingest.model_copy(update={"dead_letters_per_meter": 20})
    settings = settings.model_copy(update={"ingest": ingest})
    metrics = CollectorRegistry()
    ingester = wiring.build_ingester(settings, registry, store, metrics)
    ingester.start()
    assert ingester.wait_connected(10)
    attacker = MqttProbe(mosquitto.url)
    try:
        for i in range(300):
            attacker.publish("gas/v1/meters/FLOOD1/telemetry", b"{not json %d" % i)
            if i % 30 == 0:
                attacker.publish(
                    "gas/v1/meters/GOOD1/telemetry", {"ts": now_ms() - 60_000 + i, "volume_m3": 1.0}
                )
        wait_until(lambda: store.count("GOOD1") == 10, what="the other meter's readings stored")
        wait_until(
            lambda: metrics.get_sample_value("gasguard_ingest_dead_letters_dropped_total") == 280,
            what="280 dead letters dropped past the cap",
        )
        assert registry.dead_letters.count() == 20
        (alarm,) = registry.alarms.find()
        assert (alarm.meter_id, alarm.rule, alarm.repeat_count) == ("FLOOD1", "meter_flooding", 1)
    finally:
        attacker.close()
        ingester.stop()


def test_qos0_messages_past_the_lane_bound_are_dropped_and_counted(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    settings = settings_for(mosquitto.url, tmp_path)
    ingest = settings.ingest.model_copy(update={"max_queued_qos0": 50})
    settings = settings.model_copy(update={"ingest": ingest})
    metrics = CollectorRegistry()
    registry = sqlite_registry(tmp_path)
    ingester = wiring.build_ingester(
        settings, registry, SqliteTelemetryStore(tmp_path / "t.db"), metrics
    )  # not started: nothing takes from its queue
    body = b'{"ts": 1790000000000, "volume_m3": 1.0}'
    for _ in range(200):
        ingester._on_message(Incoming("gas/v1/meters/Q0/telemetry", body, 0, 0, 0))
    for _ in range(10):  # QoS 1: bounded by the broker's window, never dropped here
        ingester._on_message(Incoming("gas/v1/meters/Q1/telemetry", body, 1, 0, 0))
    assert ingester._queue.qsize() == 60
    assert metrics.get_sample_value("gasguard_ingest_qos0_dropped_total") == 150
