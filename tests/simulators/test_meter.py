"""The simulated meter and fleet: pure, deterministic, obedient to commands."""

from __future__ import annotations

import dataclasses

import pytest

from contract.profiles import MeterProfile
from contract.protocol import Command, parse_reply
from contract.signing import new_key, sign_command, signature_ok
from simulators.config import SimulatorConfig
from simulators.fleet import build_fleet
from simulators.household import household_flow_m3h
from simulators.meter import Fault, SimMeter

T0 = 1_790_000_000_000
MIN = 60_000
DAY = 24 * 60 * MIN
KEY = new_key()


def signed(command_id: str, meter_id: str, action: str, at: int, counter: int = 1) -> Command:
    command = Command(command_id, meter_id, action, at, "test", counter, at + 10 * MIN)  # type: ignore[arg-type]
    return sign_command(KEY, command)


def test_the_register_integrates_the_flow() -> None:
    meter = SimMeter(MeterProfile("S1"), volume_m3=10.0, faults=(Fault("over_flow", T0, 6.0),))
    first = meter.read(T0)
    second = meter.read(T0 + 10 * MIN)
    assert second.volume_m3 - first.volume_m3 >= 1.0  # at least 6 m³/h for 10 min
    assert second.flow_m3h is not None and second.flow_m3h >= 6.0


def test_a_close_command_stops_the_flow_and_the_register_and_is_reported() -> None:
    meter = SimMeter(MeterProfile("S1"), faults=(Fault("over_flow", T0, 6.0),), key=KEY)
    meter.read(T0)
    reply = meter.handle(signed("c1", "S1", "close", T0 + MIN), T0 + MIN)
    assert (reply.command_id, reply.result, reply.valve) == ("c1", "done", "closed")
    assert signature_ok(KEY, parse_reply("S1", reply.to_payload()))
    closed = meter.read(T0 + 2 * MIN)
    later = meter.read(T0 + 60 * MIN)
    assert (closed.valve, closed.flow_m3h) == ("closed", 0.0)
    assert later.volume_m3 == closed.volume_m3


def test_arm_then_button_reopens_only_when_armed() -> None:
    meter = SimMeter(MeterProfile("S1"), valve="closed", key=KEY)
    assert meter.press_button(T0) is None
    meter.handle(signed("c2", "S1", "arm", T0), T0)
    event = meter.press_button(T0 + 1)
    assert event is not None and event.event == "valve_opened" and meter.valve == "open"


def test_forged_altered_replayed_expired_or_misaddressed_commands_are_refused() -> None:
    meter = SimMeter(MeterProfile("S1"), key=KEY)
    good = signed("c5", "S1", "close", T0, counter=5)
    forged = sign_command(new_key(), good)
    altered = dataclasses.replace(good, action="open")
    cases = [
        (signed("c3", "S2", "close", T0), "wrong_meter"),
        (forged, "bad_signature"),
        (altered, "bad_signature"),
        (signed("c6", "S1", "close", T0 - 20 * MIN, counter=6), "expired"),
    ]
    for command, why in cases:
        reply = meter.handle(command, T0 + MIN)
        assert (reply.result, reply.error, meter.valve) == ("rejected", why, "open")
    assert meter.handle(good, T0 + MIN).result == "done" and meter.valve == "closed"
    meter.valve = "open"  # the customer reopened it (after an arm)
    resent = meter.handle(good, T0 + 2 * MIN)  # the same command again: confirmed, not redone
    assert (resent.result, meter.valve) == ("done", "open")
    old = meter.handle(signed("c4", "S1", "close", T0, counter=4), T0 + 2 * MIN)
    assert (old.result, old.error, meter.valve) == ("rejected", "replayed", "open")
    assert meter.rejected == [
        "wrong_meter",
        "bad_signature",
        "bad_signature",
        "expired",
        "replayed",
    ]


def test_a_time_set_moves_the_clock_even_past_its_expiry_but_never_when_replayed() -> None:
    """A meter two hours ahead judges every command expired by its own clock: a time set
    is not refused as expired (the clock is what is wrong); its counter refuses a replay."""
    meter = SimMeter(MeterProfile("S1"), key=KEY, clock_offset_ms=120 * MIN)
    time_set = signed("t1", "S1", "time", T0, counter=1)
    reply = meter.handle(time_set, meter.clock(T0))
    assert reply.result == "done" and meter.clock(T0) == T0
    again = meter.handle(signed("t0", "S1", "time", T0 - DAY, counter=0), meter.clock(T0))
    assert (again.result, again.error, meter.clock(T0)) == ("rejected", "replayed", T0)


def test_the_leak_event_is_reported_once() -> None:
    meter = SimMeter(MeterProfile("S1"), faults=(Fault("leak_detector", T0),))
    assert meter.due_events(T0 - 1) == []
    assert [e.event for e in meter.due_events(T0)] == ["detector_alarm"]
    assert meter.due_events(T0 + 1) == []


def test_households_cook_at_mealtimes_and_rest_at_night() -> None:
    dinner = T0 - T0 % 86_400_000 + (18 * 60 + 20 - 8 * 60) * MIN  # 18:20 in Guangzhou
    night = dinner + 9 * 60 * MIN  # 03:20
    assert household_flow_m3h("S1", dinner) > 0.2
    assert household_flow_m3h("S1", night) == 0.0


def test_the_fleet_is_deterministic_and_labels_its_faults() -> None:
    config = SimulatorConfig(meters=50, leak_faults=2, over_flow_faults=1, micro_flow_faults=1)
    first, second = build_fleet(config, T0), build_fleet(config, T0)
    assert [m.profile for m in first.meters] == [m.profile for m in second.meters]
    assert first.labels == second.labels
    assert sorted(kind for _, kind, _ in first.labels) == [
        "leak_detector",
        "leak_detector",
        "micro_flow",
        "over_flow",
    ]
    faulty = {meter_id for meter_id, _, _ in first.labels}
    assert len(faulty) == 4
    assert len({m.meter_id for m in first.meters}) == 50


def test_more_fault_kinds_show_in_readings_and_events() -> None:
    def meter(kind: str) -> SimMeter:
        return SimMeter(MeterProfile("S9"), faults=(Fault(kind, T0 + MIN),))  # type: ignore[arg-type]

    assert meter("pressure_low").read(T0).pressure_kpa == pytest.approx(2.0, abs=0.11)
    assert meter("pressure_low").read(T0 + MIN).pressure_kpa == 0.5
    assert meter("pressure_high").read(T0 + MIN).pressure_kpa == 4.2
    assert meter("low_battery").read(T0 + MIN).battery_pct == 15.0
    for kind, event in (("seismic", "seismic"), ("tamper", "tamper")):
        shaken = meter(kind)
        assert shaken.due_events(T0) == []
        assert [e.event for e in shaken.due_events(T0 + MIN)] == [event]
        assert shaken.due_events(T0 + 2 * MIN) == []  # once


def test_the_battery_drains_with_time() -> None:
    meter = SimMeter(MeterProfile("S8"), battery_pct=90.0, battery_drain_pct_per_day=0.5)
    meter.read(T0)
    assert meter.read(T0 + 10 * 86_400_000).battery_pct == 85.0
