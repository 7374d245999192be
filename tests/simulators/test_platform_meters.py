"""NB-IoT meters asleep behind simulated OneNET and CTWing platforms, end to end on real
Mosquitto with the platform receiver and the ingester: each wake-up's upload is stored;
a close waits in the platform's cache until the meter wakes, and the meter's next
upload confirms it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gasguard import wiring
from gasguard.demo import demo_platform_accounts, with_platforms
from gasguard.servers import HttpAppThread, MosquittoServer
from ingest.platform_receiver import create_receiver_app
from simulators.fleet import build_fleet
from simulators.platform import SimulatedPlatform
from telemetry import SqliteTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import operator_closes, quiet_fleet, settings_for, start_ingester, wait_until

pytestmark = pytest.mark.integration
IMEI, DEVICE = "868000000000001", "ctsim000001"


def test_sleeping_meters_upload_when_they_wake_and_obey_the_cached_close(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    config = quiet_fleet(1, "NBX", onenet_meters=1, ctwing_meters=1, nb_wake_every_s=2)
    accounts = demo_platform_accounts()
    platform = SimulatedPlatform("", accounts)
    api = HttpAppThread(platform.app)
    settings = with_platforms(
        settings_for(mosquitto.url, tmp_path, simulator=config), accounts, api.url
    )
    registry = sqlite_registry(tmp_path)
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    plan = build_fleet(config, time.time_ns() // 1_000_000)
    assert [m.profile.report_interval_s for m in plan.meters[1:]] == [2, 2]
    wiring.provision_fleet(registry, plan, time.time_ns() // 1_000_000)
    ingester = start_ingester(settings, registry, store)
    receiver = wiring.build_platform_receiver(settings)
    receiver.session.start()
    receiver_http = HttpAppThread(create_receiver_app(receiver))
    platform.receiver_url = receiver_http.url
    runner = wiring.build_fleet_runner(settings, plan, platform)
    try:
        runner.start()
        assert runner.wait_connected(10)
        wait_until(lambda: all(store.count(m) >= 2 for m in (IMEI, DEVICE)), 30, "uploads")
        closes = operator_closes(registry, (IMEI, DEVICE))
        wait_until(
            lambda: all(registry.commands.get(c).state == "succeeded" for c in closes.values()),
            30,
            "both closes confirmed after a wake-up",
        )
    finally:
        runner.stop()
        receiver_http.stop()
        receiver.session.stop()
        api.stop()
        ingester.stop()
    for meter_id in (IMEI, DEVICE):
        assert runner.meter(meter_id).valve == "closed"
        assert registry.meters.get(meter_id).valve == "closed"
        (command,) = [c for c in registry.commands.find(meter_id=meter_id)]
        assert len(command.platform_refs) == 1  # handed to the platform once
    assert [c.action for c in platform.cached] == ["close", "close"]
    assert platform.refused == [] and registry.dead_letters.count() == 0
