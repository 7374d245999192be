"""gasguard against a Mosquitto in its stock configuration (in-flight window 20, queue
1,000), as a utility that points gasguard at the broker it already has would run it.

Measured before session 7, same publisher: about 2,900 stored messages/s, and once ingest
fell 1,000 messages behind the broker dropped 9,229 of 60,000 readings it had acknowledged
to the meters, with nobody told."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gasguard.servers import InfluxServer, MosquittoServer
from telemetry import InfluxTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import gasguard, wait_until
from tests.ingest.test_faults import assert_exactly_once
from tests.processes import IngestProcess, LoadPublisher

pytestmark = pytest.mark.integration


def stock_ingest(
    folder: Path, broker: MosquittoServer, influxd: InfluxServer, database: str, **env: str
) -> IngestProcess:
    """``gasguard ingest`` on the stock broker, reporting its health every 0.5 s."""
    return IngestProcess(
        folder, broker.url, influxd.url, database, GASGUARD_INGEST__HEALTH_EVERY_S="0.5", **env
    )


def test_on_a_stock_broker_ingest_asks_for_its_own_window_and_loses_nothing(
    stock_mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_store: InfluxTelemetryStore,
    tmp_path: Path,
) -> None:
    ingest = stock_ingest(tmp_path, stock_mosquitto, influxd, influx_store.database)
    load = LoadPublisher(stock_mosquitto.url, "STK", meters=50, count=12_000, rate=4_000)
    try:
        ingest.start()
        assert "ingest uses MQTT 5 with Receive Maximum 65535" in ingest.log()
        load.start()
        load.wait()
        assert_exactly_once(influx_store, load)
        registry = sqlite_registry(tmp_path / "data")
        wait_until(
            lambda: any(
                "in-flight window for MQTT 3.1.1 is 20" in w.warning
                for w in registry.workers.list()
            ),
            what="the broker's window in the worker's health report",
        )
        time.sleep(2)  # two $SYS intervals: a drop would be counted by now
        assert [a.rule for a in registry.alarms.find()] == []  # no broker_dropped
    finally:
        load.stop()
        ingest.stop()


def test_messages_the_stock_broker_drops_raise_a_critical_alarm(
    stock_mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_store: InfluxTelemetryStore,
    tmp_path: Path,
) -> None:
    """The ingester away (its persistent session kept), 1,500 readings published: the
    broker keeps 1,000 and drops 500. The ingester, back, sees the broker's drop counter
    and raises a critical alarm and a health fault; what the broker kept is stored."""
    ingest = stock_ingest(
        tmp_path,
        stock_mosquitto,
        influxd,
        influx_store.database,
        GASGUARD_INGEST__BROKER_WATCH_CHECK_S="0.2",
    )
    load = LoadPublisher(stock_mosquitto.url, "DRP", meters=10, count=1500, rate=3000)
    try:
        ingest.start()
        ingest.stop()
        load.start()
        load.wait()
        assert len(load.acknowledged()) == 1500  # the broker took them all from the meters
        ingest.start()
        registry = sqlite_registry(tmp_path / "data")
        wait_until(
            lambda: [a.rule for a in registry.alarms.find()] == ["broker_dropped"],
            what="a broker_dropped alarm",
        )
        (alarm,) = registry.alarms.find()
        assert alarm.severity == "critical" and alarm.meter_id == "broker"
        assert alarm.detail["dropped_total"] >= 480
        wait_until(
            lambda: any("the broker dropped" in w.fault for w in registry.workers.list()),
            what="the drops in the worker's health report",
        )
        ingest.stop()
        ingest.start()  # a restart does not raise the same drops again
        time.sleep(2)
        (again,) = registry.alarms.find()
        assert again.id == alarm.id and again.repeat_count == 1
    finally:
        load.stop()
        ingest.stop()


def test_doctor_says_what_a_stock_broker_leaves_open_and_what_to_change(
    stock_mosquitto: MosquittoServer,
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    tmp_path: Path,
) -> None:
    env = {"GASGUARD_INFLUX_URL": influxd.url, "GASGUARD_DATA_DIR": str(tmp_path)}
    stock = gasguard(
        "doctor", "--probe-queue", env={**env, "GASGUARD_MQTT_URL": stock_mosquitto.url}
    )
    assert stock.returncode == 2, stock.stdout + stock.stderr  # an anonymous broker: FAIL
    assert "[FAIL] security: the broker at" in stock.stdout
    assert "in-flight window for MQTT 3.1.1 clients: 20 messages" in stock.stdout
    assert "set max_inflight_messages 1000" in stock.stdout
    assert "queue limit: it kept 1000 of 5000 messages" in stock.stdout
    assert "set max_queued_messages 1000000" in stock.stdout
    assert "schema at revision none" in stock.stdout and "gasguard migrate" in stock.stdout
    assert "InfluxDB 1." in stock.stdout
    tuned = gasguard("doctor", "--probe-queue", env={**env, "GASGUARD_MQTT_URL": mosquitto.url})
    assert "[ok  ] broker: in-flight window: at least 1000" in tuned.stdout
    assert "[ok  ] broker: queue: kept all 5000 probes" in tuned.stdout
    assert "WARN] broker: in-flight" not in tuned.stdout
    assert "WARN] broker: queue" not in tuned.stdout
