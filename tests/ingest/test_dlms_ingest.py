"""DLMS/COSEM gas meters end to end: Data-Notifications made by the Gurux library's meter
side, published on the meter's dlms topic on real Mosquitto, stored in InfluxDB by the
ingester; a broken one is dead-lettered with its code while the rest are stored. Valve
commands as DLMS actions, answered by the library's meter side over MQTT."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from gurux_dlms.objects.enums import ControlState

from contract.profiles import MeterProfile
from contract.protocol import CommandAction
from devices import dlms_commands
from devices.dlms_commands import Association
from gasguard.servers import MosquittoServer
from meters.command_store import NewCommand
from meters.views import Actor
from telemetry import InfluxTelemetryStore
from tests.conftest import sqlite_registry
from tests.dlms_meter import (
    CHINA,
    DISCONNECT,
    RECONNECT,
    DlmsMeter,
    DlmsMeterOnMqtt,
    meter_push,
)
from tests.helpers import MqttProbe, settings_for, start_ingester, wait_until


def now_ms() -> int:
    return time.time_ns() // 1_000_000


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


def test_a_close_and_an_arm_go_out_as_dlms_actions_and_the_meters_push_confirms_them(
    mosquitto: MosquittoServer, influx_store: InfluxTelemetryStore, tmp_path: Path
) -> None:
    """An operator's close to a DLMS meter: gasguard associates on the meter's dlms-down,
    calls remote_disconnect on its disconnect control and releases, all answered by
    Gurux's meter side; the meter's answer delivers the command and its next push (valve
    disconnected) succeeds it. An arm is remote_reconnect: the meter is ready for the
    customer to reconnect. An open is refused at once (the meter's control mode, not the
    server, reconnects it), and an answer outside any exchange is dead-lettered."""
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("DL0007", device_profile="dlms")], now_ms())
    ingester = start_ingester(settings_for(mosquitto.url, tmp_path), registry, influx_store)
    meter = DlmsMeterOnMqtt(mosquitto.url, "DL0007", DlmsMeter())
    otto = Actor("otto", "operator", "test")

    def command(action: CommandAction) -> str:
        new = NewCommand("DL0007", action, "a test of the valve", "maintenance")
        return registry.commands.create(new, otto, now_ms(), 3_600_000)[0].id

    try:
        close = command("close")
        wait_until(lambda: registry.commands.get(close).state == "succeeded", what="closed")
        assert meter.meter.actions == [DISCONNECT]
        assert meter.meter.valve.outputState is False
        assert registry.meters.get("DL0007").valve == "closed"
        arm = command("arm")
        wait_until(lambda: registry.commands.get(arm).state == "succeeded", what="armed")
        assert meter.meter.actions == [DISCONNECT, RECONNECT]
        assert meter.meter.valve.controlState == ControlState.READY_FOR_RECONNECTION
        opening = command("open")
        wait_until(lambda: registry.commands.get(opening).state == "failed", what="open refused")
        assert "no 'open'" in (registry.commands.get(opening).error or "")
        stray = DlmsMeter().answer(dlms_commands.start("close", Association())[1])  # an AARE
        meter.probe.publish("gas/v1/meters/DL0007/dlms", stray)
        wait_until(lambda: registry.dead_letters.count() == 1, what="the stray answer")
        assert registry.dead_letters.find()[0].code == "unknown_command"
    finally:
        meter.close()
        ingester.stop()
    downs = [t for t, _ in meter.probe.messages("/dlms-down")]
    assert len(downs) == 6  # association, action, release: twice


def test_a_meters_leak_bit_in_its_status_word_closes_it_through_an_association(
    mosquitto: MosquittoServer, influx_store: InfluxTelemetryStore, tmp_path: Path
) -> None:
    """Meter to close, in DLMS all the way: this vendor's status word bit 3 is its gas
    sensor (the contract's detector_alarm); leak_detector shuts the valve off; gasguard
    associates and calls remote_disconnect; the meter's next push shows it closed."""
    profiles = {
        "acme-dlms": {
            "codec": "dlms",
            "transport": "mqtt",
            "report_interval_s": 900,
            "options": {"alarm_codes": "bit3:detector_alarm"},
        }
    }
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("DL0009", device_profile="acme-dlms")], now_ms())
    settings = settings_for(mosquitto.url, tmp_path, device_profiles=profiles)
    ingester = start_ingester(settings, registry, influx_store)
    meter = DlmsMeterOnMqtt(mosquitto.url, "DL0009", DlmsMeter())
    try:
        meter.push(status=0b1000)
        wait_until(lambda: registry.commands.find(meter_id="DL0009"), what="the close")
        (close,) = registry.commands.find(meter_id="DL0009")
        wait_until(lambda: registry.commands.get(close.id).state == "succeeded", what="closed")
        (alarm,) = registry.alarms.find(meter_id="DL0009")
        assert (alarm.rule, alarm.action) == ("leak_detector", "shutoff")
        assert meter.meter.actions == [DISCONNECT]
        wait_until(lambda: influx_store.count("DL0009") == 2, what="both pushes stored")
    finally:
        meter.close()
        ingester.stop()
    assert registry.meters.get("DL0009").valve == "closed"
