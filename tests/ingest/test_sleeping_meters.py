"""Meters that sleep on MQTT, end to end on real Mosquitto with the simulator's sleeping
meter (it hears commands only in the window its uplink opens; time compressed: it wakes
every 3 s): a close waits for the meter's next uplink, goes out in the window it opens,
and is confirmed by the meter; an arm requested meanwhile never overtakes it; a command
for a meter that never wakes expires into a visible alarm."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from contract.profiles import MeterProfile
from contract.protocol import CommandAction
from devices.profiles import DeviceProfile
from gasguard import wiring
from gasguard.servers import MosquittoServer
from meters.command_store import NewCommand
from meters.command_windows import command_window
from meters.registry import Registry
from meters.views import Actor, CommandView, CommandWindow
from simulators.fleet import build_fleet
from telemetry import SqliteTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import (
    SLEEPY_PROFILE,
    MqttProbe,
    quiet_fleet,
    settings_for,
    start_ingester,
    wait_until,
)

pytestmark = pytest.mark.integration
METER = "SL000001"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def operator_command(
    registry: Registry, profile: DeviceProfile, action: CommandAction, meter_id: str = METER
) -> CommandView:
    """An operator's command as the API creates it: in the meter's window."""
    last_seen, at = registry.meters.get(meter_id).last_seen_ms, now_ms()
    window = command_window(profile, last_seen, at, 3_600_000)
    new = NewCommand(meter_id, action, f"test {action}", "maintenance")
    otto = Actor("otto", "operator", "test")
    return registry.commands.create(new, otto, at, window.ttl_ms, window)[0]


def test_a_close_waits_for_the_uplink_an_arm_never_overtakes_it_and_expiry_alarms(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    config = quiet_fleet(1, "AWK", sleeping_meters=2, sleeping_profile="sleepy", nb_wake_every_s=3)
    config = config.model_copy(update={"sleeping_listen_s": 1.0})
    profiles = {"sleepy": SLEEPY_PROFILE}
    settings = settings_for(mosquitto.url, tmp_path, simulator=config, device_profiles=profiles)
    sleepy = wiring.device_profiles(settings)["sleepy"]
    registry = sqlite_registry(tmp_path)
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    plan = build_fleet(config, now_ms())
    wiring.provision_fleet(registry, plan, now_ms())
    sent = MqttProbe(mosquitto.url, ("gas/v1/meters/+/commands",))
    ingester = start_ingester(settings, registry, store)
    runner = wiring.build_fleet_runner(settings, plan)
    runner.meter("SL000002").offline = (0, 2**62)  # this one never wakes
    try:
        runner.start()
        assert runner.wait_connected(10)
        wait_until(lambda: store.count(METER) >= 1, 30, "the sleeping meter's first uplink")
        wait_until(lambda: registry.meters.get(METER).last_seen_ms, 10, "its sighting")
        time.sleep(1.5)  # its window has closed
        close = operator_command(registry, sleepy, "close")
        assert close.wake_expected_ms is not None and close.state == "queued"
        arm = operator_command(registry, sleepy, "arm")
        time.sleep(0.5)
        assert sent.messages(METER) == []  # asleep: nothing goes out
        wait_until(lambda: registry.commands.get(close.id).state == "succeeded", 30, "closed")
        assert runner.meter(METER).valve == "closed"
        wait_until(lambda: registry.commands.get(arm.id).state == "succeeded", 30, "armed")
        order = [registry.commands.get(c).action for c in _sent_ids(sent, METER)]
        assert order[0] == "close" and "arm" in order
        assert order.index("arm") > max(i for i, a in enumerate(order) if a == "close")
        assert registry.commands.get(close.id).wake_expected_ms is None  # it took it
        assert operator_command(registry, sleepy, "close", "SL000002").expires_ms > now_ms()
        short = CommandWindow(1500, now_ms() + 3000, hold=True)  # a lifetime of 1.5 s
        new = NewCommand("SL000002", "arm", "never heard", "maintenance")
        lost, _ = registry.commands.create(
            new, Actor("otto", "operator", "t"), now_ms(), 1500, short
        )
        wait_until(lambda: registry.commands.get(lost.id).state == "expired", 15, "expired")
        expired = [
            a for a in registry.alarms.find(meter_id="SL000002") if a.rule == "command_expired"
        ]
        assert expired and expired[0].detail["command"] == lost.id
    finally:
        runner.stop()
        ingester.stop()
        sent.close()
    assert runner.meter(METER).armed


def _sent_ids(probe: MqttProbe, meter_id: str) -> list[str]:
    return [json.loads(payload)["id"] for _topic, payload in probe.messages(meter_id)]


def test_a_day_of_readings_at_once_is_judged_in_event_time_and_a_late_close_says_so(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    """A meter that reports once a day sends 24 hourly readings in one message; the
    pressure fell below the limit 20 hours ago with the valve open. The engine judges the
    day in order: the alarm opened at the event time (and was learned now), and the
    shutoff's close tells the operator that it was decided on data 19 h old."""
    registry = sqlite_registry(tmp_path)
    registry.meters.provision(  # it reads hourly and uploads once a day
        [MeterProfile("DAY1", report_interval_s=3600, device_profile="gasguard-json-wakes")],
        now_ms(),
    )
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    ingester = start_ingester(settings_for(mosquitto.url, tmp_path), registry, store)
    meter = MqttProbe(mosquitto.url)
    hour = 3_600_000
    start = now_ms() // hour * hour - 23 * hour
    readings = [
        {
            "ts": start + i * hour,
            "volume_m3": 100 + i * 0.01,
            "pressure_kpa": 0.5 if i in (3, 4) else 2.0,
            "valve": "open",
        }
        for i in range(24)
    ]
    try:
        meter.publish("gas/v1/meters/DAY1/telemetry", {"seq": 1, "readings": readings})
        wait_until(lambda: store.count("DAY1") == 24, 20, "the day stored")
        wait_until(lambda: registry.commands.find(meter_id="DAY1"), 20, "the close")
    finally:
        meter.close()
        ingester.stop()
    (alarm,) = [a for a in registry.alarms.find(meter_id="DAY1") if a.rule == "pressure_low"]
    assert alarm.opened_ts_ms == start + 4 * hour  # below for an hour: the second reading
    assert alarm.created_ms - alarm.opened_ts_ms > 18 * hour  # learned now, a day late
    (close,) = registry.commands.find(meter_id="DAY1")
    assert close.action == "close" and "; on data 19 h" in close.reason, close.reason
