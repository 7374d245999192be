"""The simulated CJ/T 188 meter (pure), and a mixed fleet on real Mosquitto with the
ingester: the CJ/T 188, DLMS and wM-Bus meters' own wire formats are stored as readings;
a close to a CJ/T 188 meter goes out as valve control and one to a DLMS meter as an
association and remote_disconnect (answered by Gurux's meter side), each confirmed by the
meter's reading; a close to a one-way wM-Bus meter fails at once, with the alarm."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from contract.profiles import MeterProfile
from devices import cjt188
from gasguard import wiring
from gasguard.servers import MosquittoServer
from simulators import cjt188_meter
from simulators.config import SimulatorConfig
from simulators.fleet import build_fleet
from simulators.meter import SimMeter
from telemetry import SqliteTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import operator_closes, quiet_fleet, settings_for, start_ingester, wait_until

ADDRESS = "20260000000001"
T0 = 1_790_000_000_000


def meter() -> SimMeter:
    return SimMeter(MeterProfile(ADDRESS, device_profile="cjt188"), volume_m3=12.3456)


def test_it_answers_read_data_and_obeys_valve_control_addressed_to_it() -> None:
    sim = meter()
    data = cjt188.parse_uplink(cjt188.decode_frame(cjt188_meter.answer(sim.read(T0 + 1234))))
    assert isinstance(data, cjt188.MeterData)
    assert (data.address, data.volume_m3, data.meter_time_ms, data.valve) == (
        ADDRESS,
        12.35,  # two decimals on the wire
        T0 + 1000,  # whole seconds
        "open",
    )
    close = cjt188.encode_frame(cjt188.valve_request(ADDRESS, True, 42, "2004"))
    ack = cjt188.parse_uplink(cjt188.decode_frame(cjt188_meter.obey(sim, close, T0) or b""))
    assert isinstance(ack, cjt188.WriteAck) and (ack.di, ack.serial) == (cjt188.DI_VALVE, 42)
    assert sim.valve == "closed"
    other = cjt188.encode_frame(cjt188.valve_request("20260000000002", False, 1, "2004"))
    assert cjt188_meter.obey(sim, other, T0) is None and sim.valve == "closed"
    read = cjt188.encode_frame(cjt188.read_request(ADDRESS, 5, "2018"))
    again = cjt188.parse_uplink(cjt188.decode_frame(cjt188_meter.obey(sim, read, T0 + 5) or b""))
    assert isinstance(again, cjt188.MeterData) and (again.serial, again.valve) == (5, "closed")
    assert cjt188_meter.obey(sim, b"garbage", T0) is None


def test_a_mixed_fleet_adds_each_profiles_meters_without_changing_the_rest() -> None:
    plain = SimulatorConfig(meters=5, seed=4)
    mixed = plain.model_copy(update={"cjt188_meters": 2, "dlms_meters": 1, "wmbus_meters": 1})
    before, after = build_fleet(plain, T0), build_fleet(mixed, T0)
    assert [m.profile for m in after.meters[:5]] == [m.profile for m in before.meters]
    assert after.labels == before.labels
    assert [(m.meter_id, m.profile.device_profile) for m in after.meters[5:]] == [
        ("20260000000001", "cjt188"),
        ("20260000000002", "cjt188"),
        ("DL000001", "dlms"),
        ("31000001", "wmbus"),
    ]
    only_cjt188 = build_fleet(plain.model_copy(update={"cjt188_meters": 2}), T0)
    assert [m.volume_m3 for m in only_cjt188.meters[5:]] == [m.volume_m3 for m in after.meters[5:7]]


@pytest.mark.integration
def test_a_mixed_fleet_on_mosquitto_stores_each_profiles_readings_and_confirms_closes(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    config = quiet_fleet(2, "MIX", cjt188_meters=2, dlms_meters=1, wmbus_meters=1)
    settings = settings_for(mosquitto.url, tmp_path, simulator=config)
    registry = sqlite_registry(tmp_path)
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    plan = build_fleet(config, time.time_ns() // 1_000_000)
    wiring.provision_fleet(registry, plan, time.time_ns() // 1_000_000)
    ingester = start_ingester(settings, registry, store)
    runner = wiring.build_fleet_runner(settings, plan)
    try:
        runner.start()
        assert runner.wait_connected(10)
        mixed = (ADDRESS, "DL000001", "31000001")
        wait_until(lambda: all(store.count(m) >= 3 for m in mixed), 30, "each profile's readings")
        assert store.count("MIX000001") >= 1  # and the JSON meters beside them
        closes = operator_closes(registry, (ADDRESS, "DL000001", "31000001"))
        states = {"20260000000001": "succeeded", "DL000001": "succeeded", "31000001": "failed"}
        wait_until(
            lambda: {m: registry.commands.get(c).state for m, c in closes.items()} == states,
            30,
            "the closes confirmed, and the one-way meter's failed",
        )
    finally:
        runner.stop()
        ingester.stop()
    for meter_id in (ADDRESS, "DL000001"):
        assert runner.meter(meter_id).valve == "closed"
        assert registry.meters.get(meter_id).valve == "closed"
    assert "wmbus takes no commands" in (registry.commands.get(closes["31000001"]).error or "")
    assert registry.dead_letters.count() == 0
