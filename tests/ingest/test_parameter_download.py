"""Parameter download end to end on real Mosquitto with the simulator's meters: the
firmware thresholds configured for a device profile, one overridden for one meter, go to
an always-connected meter at once and to a sleeping meter in the window its next uplink
opens; each meter's signed ``done`` records what it holds, and the status then matches.
A DLMS meter takes them as SETs of its threshold objects (Gurux's own meter side). A
meter whose protocol cannot carry thresholds (CJ/T 188) gets a failed command with an
alarm, never a silent drop."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from contract.thresholds import Thresholds
from gasguard import wiring
from gasguard.servers import MosquittoServer
from meters.command_windows import window_for
from meters.parameters import download_command, threshold_status
from meters.registry import Registry
from meters.views import Actor, CommandView
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
PROFILE_THRESHOLDS = {"micro_flow_m3h": 0.02, "micro_flow_min": 240, "over_flow_m3h": 6.0}
SLEEPY = {**SLEEPY_PROFILE, "thresholds": PROFILE_THRESHOLDS}
CONNECTED = {"codec": "gasguard-json", "transport": "mqtt", "report_interval_s": 1}
CONNECTED_THRESHOLDS = {**CONNECTED, "thresholds": {"pressure_low_kpa": 1.2}}
SUPERVISOR = Actor("sara", "supervisor", "test")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def download(registry: Registry, profiles: dict, meter_id: str) -> CommandView:
    """A supervisor's download, as the API queues it."""
    meter = registry.meters.get(meter_id)
    thresholds = profiles[meter.device_profile].thresholds
    new = download_command(thresholds, meter, "test download")
    at = now_ms()
    window = window_for(profiles, meter, at, 3_600_000)
    return registry.commands.create(new, SUPERVISOR, at, window.ttl_ms, window)[0]


def test_thresholds_reach_connected_and_sleeping_meters_and_cjt188_fails_visibly(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    config = quiet_fleet(
        1,
        "PRM",
        sleeping_meters=1,
        sleeping_profile="sleepy",
        nb_wake_every_s=3,
        cjt188_meters=1,
        dlms_meters=1,
    )
    config = config.model_copy(update={"sleeping_listen_s": 1.0})
    device_profiles = {"sleepy": SLEEPY, "gasguard-json": CONNECTED_THRESHOLDS}
    settings = settings_for(
        mosquitto.url, tmp_path, simulator=config, device_profiles=device_profiles
    )
    profiles = wiring.device_profiles(settings)
    registry = sqlite_registry(tmp_path)
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    plan = build_fleet(config, now_ms())
    wiring.provision_fleet(registry, plan, now_ms())
    registry.meters.set_thresholds(
        "SL000001", Thresholds(over_flow_m3h=4.0), SUPERVISOR, "a G2.5 in a small flat", now_ms()
    )
    sent = MqttProbe(mosquitto.url, ("gas/v1/meters/+/commands",))
    ingester = start_ingester(settings, registry, store)
    runner = wiring.build_fleet_runner(settings, plan)
    try:
        runner.start()
        assert runner.wait_connected(10)
        wait_until(lambda: registry.meters.get("SL000001").last_seen_ms, 30, "a sighting")
        wait_until(lambda: registry.meters.get("PRM000001").last_seen_ms, 30, "a sighting")
        registry.meters.set_thresholds(
            "DL000001",
            Thresholds(over_flow_m3h=4.0, prolonged_use_min=300),
            SUPERVISOR,
            "t",
            now_ms(),
        )
        dlms = download(registry, profiles, "DL000001")
        time.sleep(1.5)  # the sleeping meter's window has closed
        sleeping = download(registry, profiles, "SL000001")
        assert sleeping.state == "queued" and sleeping.wake_expected_ms is not None
        connected = download(registry, profiles, "PRM000001")
        cjt188 = download_cjt188(registry, profiles)
        for command in (sleeping, connected, dlms):
            wait_until(
                lambda c=command: registry.commands.get(c.id).state == "succeeded", 30, "held"
            )
        wait_until(lambda: registry.commands.get(cjt188.id).state == "failed", 15, "refused")
    finally:
        runner.stop()
        ingester.stop()
        sent.close()
    assert runner.meter("SL000001").thresholds == {**PROFILE_THRESHOLDS, "over_flow_m3h": 4.0}
    assert runner.meter("PRM000001").thresholds == {"pressure_low_kpa": 1.2}
    assert runner.meter("DL000001").thresholds == {"7.0.128.0.4.255": 4000, "7.0.128.0.3.255": 300}
    for meter_id in ("SL000001", "PRM000001", "DL000001"):
        meter = registry.meters.get(meter_id)
        status = threshold_status(profiles[meter.device_profile].thresholds, meter)
        assert status.matches and status.held == status.configured
        assert meter.thresholds_confirmed_ms is not None
    assert "CJ/T 188 defines no write" in (registry.commands.get(cjt188.id).error or "")
    failed = [a for a in registry.alarms.find() if a.rule == "command_failed"]
    assert [a.detail["command"] for a in failed] == [cjt188.id]
    actions = [a.action for a in registry.audit.entries(limit=50)]
    assert actions.count("command.params") == 4 and "meter.thresholds" in actions


def download_cjt188(registry: Registry, profiles: dict) -> CommandView:
    address = "20260000000001"
    registry.meters.set_thresholds(
        address, Thresholds(micro_flow_m3h=0.03), SUPERVISOR, "test", now_ms()
    )
    return download(registry, profiles, address)
