"""CJ/T 188 meters end to end: a DTU publishes its meters' binary frames on real Mosquitto,
the ingester stores them in real InfluxDB as contract readings, and a garbage frame is
dead-lettered with its code while the rest of the stream is stored."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract.profiles import MeterProfile
from devices import cjt188
from gasguard.servers import MosquittoServer
from meters.command_store import NewCommand
from meters.views import Actor
from telemetry import InfluxTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import MqttProbe, settings_for, start_ingester, wait_until

ADDRESS = "20260000000007"


@pytest.fixture
def dtu(mosquitto: MosquittoServer) -> Iterator[MqttProbe]:
    """The DTU in front of the meters: it publishes their frames and reads requests."""
    client = MqttProbe(mosquitto.url, ("gas/v1/meters/+/cjt188-down",))
    yield client
    client.close()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


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


def requests(dtu: MqttProbe) -> list[cjt188.Request]:
    return [cjt188.parse_request(cjt188.decode_frame(p)) for _t, p in dtu.messages("cjt188-down")]


def test_a_close_goes_out_as_cjt188_valve_control_and_the_meters_reading_confirms_it(
    mosquitto: MosquittoServer,
    influx_store: InfluxTelemetryStore,
    dtu: MqttProbe,
    tmp_path: Path,
) -> None:
    """An operator's close to a cjt188 meter: the valve control (99H, SER the counter's low
    byte) on cjt188-down; the meter's answer delivers it and gasguard asks for a reading at
    once; the reading shows the valve closed: succeeded. An arm, which CJ/T 188 cannot
    say, fails with an alarm instead of waiting to expire."""
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile(ADDRESS, device_profile="cjt188")], now_ms())
    ingester = start_ingester(settings_for(mosquitto.url, tmp_path), registry, influx_store)
    up = f"gas/v1/meters/{ADDRESS}/cjt188-up"
    otto = Actor("otto", "operator", "test")
    try:
        close, _ = registry.commands.create(
            NewCommand(ADDRESS, "close", "smell of gas reported", "maintenance"),
            otto,
            now_ms(),
            3_600_000,
        )
        wait_until(lambda: requests(dtu), what="the valve control on cjt188-down")
        (valve,) = requests(dtu)
        assert (valve.address, valve.di, valve.values) == (ADDRESS, cjt188.DI_VALVE, b"\x99")
        assert valve.serial == close.counter % 256
        ack = cjt188.write_ack_frame(ADDRESS, cjt188.DI_VALVE, valve.serial, 0, "2004")
        dtu.publish(up, cjt188.encode_frame(ack))
        wait_until(lambda: len(requests(dtu)) == 2, what="a reading asked for at once")
        assert requests(dtu)[1].di == cjt188.DI_METER_DATA
        assert registry.commands.get(close.id).state == "delivered"
        closed = cjt188.MeterData(
            ADDRESS,
            0,
            3.5,
            3.0,
            now_ms() // 1000 * 1000 + 1000,
            "closed",
            False,
            cjt188.status_bits("closed", False),
        )
        dtu.publish(up, cjt188.encode_frame(cjt188.meter_data_frame(closed, "2004")))
        wait_until(lambda: registry.commands.get(close.id).state == "succeeded", what="succeeded")
        assert registry.meters.get(ADDRESS).valve == "closed"
        arm, _ = registry.commands.create(
            NewCommand(ADDRESS, "arm", "customer may reopen", "maintenance"),
            otto,
            now_ms(),
            3_600_000,
        )
        wait_until(lambda: registry.commands.get(arm.id).state == "failed", what="arm failed")
        assert "CJ/T 188 has no 'arm'" in (registry.commands.get(arm.id).error or "")
        (alarm,) = registry.alarms.find(meter_id=ADDRESS)
        assert alarm.rule == "command_failed"
        stray = cjt188.write_ack_frame(
            ADDRESS, cjt188.DI_VALVE, (close.counter + 7) % 256, 0, "2004"
        )
        dtu.publish(up, cjt188.encode_frame(stray))
        wait_until(lambda: registry.dead_letters.count() == 1, what="a stray answer dead-lettered")
        assert registry.dead_letters.find()[0].code == "unknown_command"
    finally:
        ingester.stop()
    assert len(requests(dtu)) == 2  # the arm never reached the meter


def test_a_meters_own_leak_bit_is_gasguards_leak_alarm_and_closes_it_in_cjt188(
    mosquitto: MosquittoServer,
    influx_store: InfluxTelemetryStore,
    dtu: MqttProbe,
    tmp_path: Path,
) -> None:
    """Meter to close, in CJ/T 188 all the way: this vendor's ST1 D3 is its gas sensor,
    mapped to the contract's detector_alarm; the engine's leak_detector rule shuts the
    valve off, the close goes out as valve control, the meter answers, and its reading
    shows the valve closed."""
    profiles = {
        "acme-188": {
            "codec": "cjt188",
            "transport": "mqtt",
            "report_interval_s": 3600,
            "options": {"alarm_codes": "ST1.3:detector_alarm"},
        }
    }
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile(ADDRESS, device_profile="acme-188")], now_ms())
    settings = settings_for(mosquitto.url, tmp_path, device_profiles=profiles)
    ingester = start_ingester(settings, registry, influx_store)
    up = f"gas/v1/meters/{ADDRESS}/cjt188-up"
    at = now_ms() // 1000 * 1000 - 5000
    try:
        leak = cjt188.MeterData(
            ADDRESS, 0, 21.5, 20.0, at, "open", False, cjt188.status_bits("open", False) | 1 << 11
        )
        dtu.publish(up, cjt188.encode_frame(cjt188.meter_data_frame(leak, "2018")))
        wait_until(lambda: requests(dtu), what="the close as valve control")
        (valve,) = requests(dtu)
        assert (valve.di, valve.values) == (cjt188.DI_VALVE, b"\x99")
        (alarm,) = registry.alarms.find(meter_id=ADDRESS)
        assert (alarm.rule, alarm.action, alarm.opened_ts_ms) == ("leak_detector", "shutoff", at)
        ack = cjt188.write_ack_frame(ADDRESS, cjt188.DI_VALVE, valve.serial, 0, "2018")
        dtu.publish(up, cjt188.encode_frame(ack))
        wait_until(lambda: len(requests(dtu)) == 2, what="a reading asked for")
        after = now_ms() // 1000 * 1000 + 1000  # after its answer: whole seconds on the wire
        closed = cjt188.MeterData(
            ADDRESS, 0, 21.5, 20.0, after, "closed", False, cjt188.status_bits("closed", False)
        )
        dtu.publish(up, cjt188.encode_frame(cjt188.meter_data_frame(closed, "2018")))
        (close,) = registry.commands.find(meter_id=ADDRESS)
        wait_until(lambda: registry.commands.get(close.id).state == "succeeded", what="succeeded")
        wait_until(lambda: influx_store.count(ADDRESS) == 2, what="both readings stored")
    finally:
        ingester.stop()
    assert registry.meters.get(ADDRESS).valve == "closed"
