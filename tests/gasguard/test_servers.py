"""The embedded broker choice, and the amqtt fallback carrying the real protocol."""

from __future__ import annotations

from pathlib import Path

import pytest

from gasguard import servers
from gasguard.servers import AmqttServer, MosquittoServer, embedded_broker
from tests.helpers import MqttProbe, wait_until


def test_mosquitto_is_preferred_when_installed(tmp_path: Path) -> None:
    broker = embedded_broker(tmp_path)
    try:
        assert isinstance(broker, MosquittoServer)
    finally:
        broker.stop()


def test_amqtt_is_the_fallback_and_carries_qos1_messages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(servers, "find_binary", lambda _name: None)
    broker = embedded_broker(tmp_path)
    assert isinstance(broker, AmqttServer)
    try:
        subscriber = MqttProbe(broker.url, ("gas/v1/meters/+/telemetry",))
        publisher = MqttProbe(broker.url)
        publisher.publish("gas/v1/meters/A1/telemetry", {"ts": 1, "volume_m3": 1})
        wait_until(lambda: subscriber.messages("A1"), what="the message through amqtt")
        subscriber.close()
        publisher.close()
    finally:
        broker.stop()


def test_missing_binaries_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(servers, "find_binary", lambda _name: None)
    with pytest.raises(servers.ServerStartError, match="apt-get install -y mosquitto"):
        MosquittoServer(tmp_path)
    with pytest.raises(servers.ServerStartError, match="apt-get install -y influxdb"):
        servers.InfluxServer(tmp_path)


def test_the_ingester_shuts_a_valve_through_amqtt_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import time

    from contract.profiles import MeterProfile
    from telemetry import SqliteTelemetryStore
    from tests.conftest import sqlite_registry
    from tests.helpers import settings_for, start_ingester

    monkeypatch.setattr(servers, "find_binary", lambda _name: None)
    broker = embedded_broker(tmp_path / "broker")
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("AQ1")], 0)
    settings = settings_for(broker.url, tmp_path, mqtt_protocol="3.1.1")  # amqtt has no MQTT 5
    ingester = start_ingester(settings, registry, SqliteTelemetryStore(tmp_path / "t.db"))
    probe = MqttProbe(broker.url, ("gas/v1/meters/+/commands",))
    try:
        probe.publish(
            "gas/v1/meters/AQ1/telemetry", {"ts": time.time_ns() // 1_000_000, "volume_m3": 3.0}
        )
        probe.publish(
            "gas/v1/meters/AQ1/events",
            {"ts": time.time_ns() // 1_000_000, "event": "detector_alarm"},
        )
        wait_until(lambda: probe.messages("AQ1/commands"), what="a close command through amqtt")
        wait_until(
            lambda: registry.meters.get("AQ1").last_reading_ms is not None, what="the sighting"
        )
    finally:
        probe.close()
        ingester.stop()
        broker.stop()


def test_mosquitto_can_write_its_persistence_file(tmp_path: Path) -> None:
    import time

    broker = MosquittoServer(tmp_path / "broker")
    try:
        probe = MqttProbe(broker.url)
        probe.publish("gas/v1/meters/P1/status", b"online")
        probe.close()
        wait_until(
            lambda: (tmp_path / "broker" / "mosquitto.db").exists(), 10, "the persistence file"
        )
        time.sleep(1.5)  # another autosave
        assert "Permission denied" not in (tmp_path / "broker" / "mosquitto.log").read_text()
    finally:
        broker.stop()
