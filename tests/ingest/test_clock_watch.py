"""A meter's clock against gasguard's, from its uplinks: the pure watch, and end to end on
Mosquitto a meter whose clock is off is flagged and its time set in its own protocol (a
CJ/T 188 clock set, a DLMS SET of the clock, gasguard's signed time command; the simulated
meters obey each), and the alarm clears once its clock is judged on time again."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gasguard import wiring
from gasguard.servers import MosquittoServer
from ingest.clock_watch import ClockFinding, ClockWatch
from meters.registry import Registry
from simulators.config import SimulatorConfig
from simulators.fleet import build_fleet
from simulators.runner import FleetRunner
from telemetry import SqliteTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import MqttProbe, quiet_fleet, settings_for, start_ingester, wait_until

MINUTE = 60_000


def test_the_median_of_the_last_uplinks_says_where_the_clock_is() -> None:
    watch = ClockWatch(
        tolerance_ms=5 * MINUTE,
        window=8,
        min_samples=4,
        judge_every=2,
        sample_every_ms=0,
        interval_of=lambda _meter_id: 60 * MINUTE,  # hourly meters
    )
    findings = [watch.observe("M1", 31 * MINUTE, 0) for _ in range(6)]
    assert findings[:3] == [None, None, None]  # too few samples yet
    assert findings[3] == ClockFinding("M1", "drifted", 31 * MINUTE)
    assert findings[4:] == [None, None]  # flagged once
    behind = [watch.observe("M2", -50 * MINUTE, 0) for _ in range(4)]
    assert behind == [None] * 4  # an hourly meter's buffered reading: within its interval
    late = [watch.observe("M3", -70 * MINUTE, 0) for _ in range(4)]
    assert late[-1] == ClockFinding("M3", "drifted", -70 * MINUTE)
    watch.reset("M1")
    settled = [watch.observe("M1", -2000, 0) for _ in range(4)]
    assert settled[-1] == ClockFinding("M1", "settled", -2000)
    one_bad = [watch.observe("M4", off, 0) for off in (0, 0, 90 * MINUTE, 0)]
    assert one_bad == [None] * 4  # one odd uplink moves no median
    spaced = ClockWatch(tolerance_ms=5 * MINUTE, min_samples=2, judge_every=1)
    burst = [spaced.observe("M5", -90 * MINUTE, t) for t in range(0, 20_000, 1000)]
    assert burst == [None] * 20  # a backlog's burst of old readings is one sample
    assert spaced.observe("M5", -90 * MINUTE, 60_000) is not None  # a minute on


@contextlib.contextmanager
def drifted_fleet(
    mosquitto: MosquittoServer,
    folder: Path,
    config: SimulatorConfig,
    meter_id: str,
    offset_ms: int,
) -> Iterator[tuple[Registry, FleetRunner]]:
    """The fleet running on Mosquitto with an ingester that samples clocks every 0.5 s
    (time compressed), ``meter_id``'s clock off by ``offset_ms``."""
    settings = settings_for(mosquitto.url, folder, simulator=config)
    often = settings.ingest.model_copy(update={"clock_sample_every_s": 0.5})
    settings = settings.model_copy(update={"ingest": often})
    registry = sqlite_registry(folder)
    store = SqliteTelemetryStore(folder / "telemetry.sqlite3")
    plan = build_fleet(config, time.time_ns() // 1_000_000)
    wiring.provision_fleet(registry, plan, time.time_ns() // 1_000_000)
    ingester = start_ingester(settings, registry, store)
    runner = wiring.build_fleet_runner(settings, plan)
    runner.meter(meter_id).clock_offset_ms = offset_ms
    try:
        runner.start()
        assert runner.wait_connected(10)
        yield registry, runner
    finally:
        runner.stop()
        ingester.stop()


def cleared_again(registry: Registry, meter_id: str) -> None:
    wait_until(
        lambda: registry.alarms.find(meter_id=meter_id)[0].state == "cleared",
        60,
        "the alarm cleared once its clock is judged on time again",
    )


@pytest.mark.integration
def test_a_cjt188_meter_thirty_minutes_ahead_is_flagged_and_its_time_set(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    address = "20260000000001"
    downs = MqttProbe(mosquitto.url, (f"gas/v1/meters/{address}/cjt188-down",))
    config = quiet_fleet(1, "CLK", cjt188_meters=1)
    with drifted_fleet(mosquitto, tmp_path, config, address, 30 * MINUTE) as (registry, runner):
        wait_until(lambda: registry.alarms.find(meter_id=address), 40, "the clock flagged")
        (alarm,) = registry.alarms.find(meter_id=address)
        assert (alarm.rule, alarm.action, alarm.detail["clock"]) == (
            "clock_drift",
            "alarm",
            "ahead",
        )
        assert 29 * 60 <= alarm.detail["offset_s"] <= 31 * 60
        wait_until(lambda: downs.messages(), 10, "the time set")
        wait_until(lambda: abs(runner.meter(address).clock_offset_ms) < 2000, 10, "its clock set")
        cleared_again(registry, address)
    downs.close()
    assert registry.dead_letters.count() == 0  # the meter's answer to the time set is taken
    (alarm,) = registry.alarms.find(meter_id=address)
    assert alarm.cleared_by == "gasguard-safety"


@pytest.mark.integration
def test_a_dlms_meter_behind_is_flagged_and_its_clock_set_through_an_association(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    """The clock's SET (Gurux's own meter side answers it), not bound to any command."""
    meter_id = "DL000001"
    config = quiet_fleet(1, "CLD", dlms_meters=1)
    with drifted_fleet(mosquitto, tmp_path, config, meter_id, -2 * 3_600_000) as (
        registry,
        runner,
    ):
        wait_until(lambda: registry.alarms.find(meter_id=meter_id), 60, "the clock flagged")
        (alarm,) = registry.alarms.find(meter_id=meter_id)
        assert alarm.rule == "clock_drift" and alarm.detail["clock"] == "behind"
        wait_until(lambda: abs(runner.meter(meter_id).clock_offset_ms) < 2000, 15, "its clock set")
        cleared_again(registry, meter_id)
    assert registry.dead_letters.count() == 0  # the association's answers are all taken
    assert registry.commands.find(meter_id) == []  # a time set is no command


@pytest.mark.integration
def test_a_json_meter_ahead_gets_a_signed_time_command_and_its_alarm_clears(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    """gasguard's own contract: a ``time`` command (format 2 revision 1), signed, sent at
    once to a connected meter; the meter sets its clock to the command's time and says
    done; the command succeeds without telemetry to follow."""
    meter_id = "CLJ000001"
    config = quiet_fleet(1, "CLJ")
    with drifted_fleet(mosquitto, tmp_path, config, meter_id, 30 * MINUTE) as (registry, runner):
        wait_until(lambda: registry.commands.find(meter_id), 40, "the time command")
        (command,) = registry.commands.find(meter_id)
        assert (command.action, command.requested_by) == ("time", "gasguard-safety")
        wait_until(lambda: registry.commands.get(command.id).state == "succeeded", 15, "done")
        assert abs(runner.meter(meter_id).clock_offset_ms) < 2000
        cleared_again(registry, meter_id)
    (alarm,) = registry.alarms.find(meter_id=meter_id)
    assert alarm.rule == "clock_drift" and alarm.detail["clock"] == "ahead"
    assert registry.dead_letters.count() == 0
