"""DLMS/COSEM gas meters end to end: Data-Notifications made by the Gurux library's meter
side, published on the meter's dlms topic on real Mosquitto, stored in InfluxDB by the
ingester; a broken one is dead-lettered with its code while the rest are stored."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from gasguard.servers import MosquittoServer
from telemetry import InfluxTelemetryStore
from tests.conftest import sqlite_registry
from tests.devices.test_dlms import CHINA, meter_push
from tests.helpers import MqttProbe, settings_for, start_ingester, wait_until


def test_pushed_notifications_are_stored_and_a_broken_one_dead_lettered(
    mosquitto: MosquittoServer, influx_store: InfluxTelemetryStore, tmp_path: Path
) -> None:
    registry = sqlite_registry(tmp_path)
    ingester = start_ingester(settings_for(mosquitto.url, tmp_path), registry, influx_store)
    meter = MqttProbe(mosquitto.url)
    start = dt.datetime.fromtimestamp(time.time() // 60 * 60 - 1800, CHINA)
    topic = "gas/v1/meters/DL0001/dlms"
    try:
        for i in range(3):
            at = start + dt.timedelta(minutes=15 * i)
            meter.publish(topic, meter_push(5_000_000 + i * 250, i < 2, at))
        meter.publish(topic, meter_push(1, True, start)[:-3])  # cut short
        wait_until(lambda: influx_store.count("DL0001") == 3, what="three readings")
        wait_until(lambda: registry.dead_letters.count() == 1, what="the broken push refused")
    finally:
        meter.close()
        ingester.stop()
    start_ms = int(start.timestamp() * 1000)
    readings = influx_store.readings("DL0001", start_ms, start_ms + 3_600_000, 10)
    assert [r.volume_m3 for r in readings] == [5000.0, 5000.25, 5000.5]
    assert [r.valve for r in readings] == ["open", "open", "closed"]
    assert [r.ts_ms for r in readings] == [start_ms + i * 900_000 for i in range(3)]
    assert registry.dead_letters.find()[0].reason.startswith("DLMS: ")
