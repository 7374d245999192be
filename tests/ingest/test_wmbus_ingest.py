"""Wireless M-Bus meters through a wmbusmeters gateway, end to end: the gateway publishes
wmbusmeters' JSON on the meter's wmbus topic (as its shell setting does with
mosquitto_pub) on real Mosquitto; the ingester stores the readings in InfluxDB,
dead-letters a telegram of the wrong meter with its code, and raises the meter's own
POWER_LOW flag as gasguard's low_battery alarm."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from gasguard.servers import MosquittoServer
from telemetry import InfluxTelemetryStore
from tests.conftest import sqlite_registry
from tests.devices.test_wmbus import AERIUS
from tests.helpers import MqttProbe, settings_for, start_ingester, wait_until


def test_a_gateways_telegrams_are_stored_and_a_wrong_one_dead_lettered(
    mosquitto: MosquittoServer, influx_store: InfluxTelemetryStore, tmp_path: Path
) -> None:
    registry = sqlite_registry(tmp_path)
    ingester = start_ingester(settings_for(mosquitto.url, tmp_path), registry, influx_store)
    gateway = MqttProbe(mosquitto.url)
    start_s = time.time() // 1 - 900
    try:
        for i in range(3):
            telegram = json.loads(AERIUS)
            telegram["total_m3"] = round(telegram["total_m3"] + i * 0.01, 3)
            received = datetime.fromtimestamp(start_s + i * 300, UTC)
            telegram["timestamp"] = received.strftime("%Y-%m-%dT%H:%M:%SZ")  # as wmbusmeters
            telegram["status"] = "POWER_LOW" if i == 2 else "OK"
            gateway.publish("gas/v1/meters/99657098/wmbus", json.dumps(telegram))
        gateway.publish("gas/v1/meters/99657099/wmbus", AERIUS)  # another meter's telegram
        wait_until(lambda: influx_store.count("99657098") == 3, what="three readings")
        wait_until(lambda: registry.dead_letters.count() == 1, what="the wrong one refused")
        wait_until(lambda: registry.alarms.find(meter_id="99657098"), what="the meter's alarm")
        (alarm,) = registry.alarms.find(meter_id="99657098")
        assert (alarm.rule, alarm.action) == ("low_battery", "alarm")
        assert alarm.detail == {"reported_by": "meter", "code": "POWER_LOW"}
        assert alarm.opened_ts_ms == int(start_s + 600) * 1000  # when the telegram said so
    finally:
        gateway.close()
        ingester.stop()
    start_ms = int(start_s * 1000)
    readings = influx_store.readings("99657098", start_ms, start_ms + 1_000_000, 10)
    assert [r.volume_m3 for r in readings] == [6842.784, 6842.794, 6842.804]
    assert [r.ts_ms for r in readings] == [start_ms + i * 300_000 for i in range(3)]
    assert (readings[0].temperature_c, readings[0].flow_m3h) == (15.9, 0.0)
    (letter,) = registry.dead_letters.find()
    assert letter.code == "id_mismatch" and letter.reason.startswith("wM-Bus: ")
