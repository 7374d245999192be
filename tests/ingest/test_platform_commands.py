"""NB-IoT meters that sleep, through OneNET and CTWing, end to end on real Mosquitto and
InfluxDB: the platform pushes a meter's readings showing a pressure fault; gasguard stores
them, raises the alarm, and hands the close to the platform's command API as a cached
command (never sent twice); the meter wakes, the platform delivers it and pushes the
result, which delivers gasguard's command; the meter's next reading shows the valve
closed and the command succeeds. A platform that refuses a command fails it with an
alarm naming the platform's answer. A parameter download goes the same way: the
thresholds as the cached command's arguments (OneNET) or as a service's parameters
(CTWing), held once the platform says the meter took them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contract.profiles import MeterProfile
from contract.thresholds import Thresholds
from gasguard import wiring
from gasguard.servers import MosquittoServer
from gasguard.settings import Settings
from ingest.platform_receiver import create_receiver_app
from meters.command_store import NewCommand
from meters.command_windows import window_for
from meters.parameters import download_command, threshold_status
from meters.registry import Registry
from meters.views import Actor
from simulators.platform import SimulatedPlatform
from telemetry import InfluxTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import settings_for, start_ingester, wait_until
from tests.platform_stand_in import (
    CTWING_ACCOUNT,
    CTWING_TOKEN,
    ONENET_API_KEY,
    ONENET_TOKEN,
    PlatformStandIn,
    ctwing_message,
    serve,
)

IMEI = "868000001234567"
DEVICE = "5e5a54e224b9436f93900c27f0787f61"
ONENET_OPTIONS = {
    "meter_key": "imei",
    "meter_prefix": "NB",
    "pressure_kpa": "3300_0_5700",
    "valve": "3200_0_5500",
    "volume_m3": "3200_0_5700",
    "command_resource": "3201_0_5850",
    "params_resource": "3202_0_5850",  # the vendor's executable resource for thresholds
}
CTWING_OPTIONS = {"volume_m3": "gas_total", "pressure_kpa": "pressure", "valve": "valve_state"}


@dataclass(frozen=True)
class Platform:
    name: str  # onenet, ctwing
    meter_id: str
    device: str  # what the platform calls the meter

    def report(self, stand_in: SimulatedPlatform, at_ms: int, valve: int, kpa: float) -> int:
        if self.name == "onenet":
            points = [("3200_0_5700", 12.5), ("3300_0_5700", kpa), ("3200_0_5500", valve)]
            messages = [
                {"type": 1, "imei": IMEI, "dev_id": 9, "ds_id": ds, "at": at_ms, "value": value}
                for ds, value in points
            ]
            return stand_in.push_onenet(messages).status_code
        payload = {"gas_total": 12.5, "pressure": kpa, "valve_state": valve}
        message = ctwing_message("dataReport", DEVICE, at_ms, payload=payload)
        return stand_in.push_ctwing(message).status_code


PLATFORMS = [Platform("onenet", f"NB{IMEI}", IMEI), Platform("ctwing", DEVICE, DEVICE)]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@pytest.fixture
def stand_in() -> Iterator[tuple[SimulatedPlatform, str]]:
    platform = PlatformStandIn("")
    server = serve(platform.app)
    yield platform, server.url
    server.stop()


def platform_settings(
    mosquitto: MosquittoServer, folder: Path, api_url: str, api_key: str = ONENET_API_KEY
) -> Settings:
    wakes = {"transport": "platform", "report_interval_s": 86_400, "window": "wakes"}
    profiles = {
        "acme-nb": {"codec": "onenet", **wakes, "wake_every_s": 86_400, "options": ONENET_OPTIONS},
        "ct-nb": {"codec": "ctwing", **wakes, "wake_every_s": 86_400, "options": CTWING_OPTIONS},
    }
    api = {
        "onenet": {"acme-nb": {"url": api_url, "api_key": api_key}},
        "ctwing": {"ct-nb": {"url": api_url, **CTWING_ACCOUNT}},
    }
    receiver = {
        "publish_timeout_s": 5,
        "onenet": {"acme-nb": {"token": ONENET_TOKEN}},
        "ctwing": {"ct-nb": {"token": CTWING_TOKEN}},
    }
    return settings_for(
        mosquitto.url,
        folder,
        device_profiles=profiles,
        platform_api=api,
        platform_receiver=receiver,
    )


@pytest.fixture
def receiver_url(
    mosquitto: MosquittoServer, tmp_path: Path, stand_in: tuple[SimulatedPlatform, str]
) -> Iterator[str]:
    receiver = wiring.build_platform_receiver(platform_settings(mosquitto, tmp_path, ""))
    receiver.session.start()
    assert receiver.session.wait_ready(10)
    server = serve(create_receiver_app(receiver))
    stand_in[0].receiver_url = server.url
    yield stand_in[0].receiver_url
    server.stop()
    receiver.session.stop()


def provision(registry: Registry) -> None:
    registry.meters.provision(
        [
            MeterProfile(f"NB{IMEI}", device_profile="acme-nb"),
            MeterProfile(DEVICE, device_profile="ct-nb"),
        ],
        now_ms(),
    )


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.name)
def test_a_shutoff_goes_to_the_platforms_cache_and_the_meter_confirms_it_when_it_wakes(
    mosquitto: MosquittoServer,
    influx_store: InfluxTelemetryStore,
    stand_in: tuple[SimulatedPlatform, str],
    receiver_url: str,
    tmp_path: Path,
    platform: Platform,
) -> None:
    fake, api_url = stand_in
    registry = sqlite_registry(tmp_path)
    provision(registry)
    settings = platform_settings(mosquitto, tmp_path, api_url)
    ingester = start_ingester(settings, registry, influx_store)
    start = now_ms() - 600_000
    try:
        for i in range(3):  # 0.5 kPa with the valve open, for two minutes
            assert platform.report(fake, start + i * 60_000, valve=1, kpa=0.5) == 200
        wait_until(lambda: influx_store.count(platform.meter_id) == 3, what="the readings")
        wait_until(lambda: fake.pending(platform.device), what="the close in the cache")
        (cached,) = fake.pending(platform.device)
        if platform.name == "onenet":
            assert cached.request["args"] == "close"
            assert (cached.request["obj_id"], cached.request["res_id"]) == (3201, 5850)
        else:
            assert cached.request["content"]["params"] == {"valve": 0}
        wait_until(
            lambda: registry.commands.find(meter_id=platform.meter_id, state="sent"),
            what="the close marked sent",
        )
        (close,) = registry.commands.find(meter_id=platform.meter_id)
        assert (close.action, close.platform_refs) == ("close", (cached.ref,))
        alarms = {a.rule for a in registry.alarms.find(meter_id=platform.meter_id)}
        assert "pressure_low" in alarms
        time.sleep(1.0)  # the dispatcher's retry timeout (0.1-0.5 s) passes: no second hand-over
        assert len(fake.cached) == 1

        woke_ms = now_ms()
        assert [c.ref for c in fake.wake(platform.device, woke_ms)] == [cached.ref]
        wait_until(lambda: registry.commands.get(close.id).state == "delivered", what="delivered")
        assert platform.report(fake, woke_ms + 1000, valve=0, kpa=0.0) == 200
        wait_until(lambda: registry.commands.get(close.id).state == "succeeded", what="succeeded")
        assert registry.meters.get(platform.meter_id).valve == "closed"
        assert registry.dead_letters.count() == 0
        assert fake.refused == []
    finally:
        ingester.stop()


def test_a_command_the_platform_refuses_fails_with_an_alarm_naming_its_answer(
    mosquitto: MosquittoServer,
    influx_store: InfluxTelemetryStore,
    stand_in: tuple[SimulatedPlatform, str],
    tmp_path: Path,
) -> None:
    """A wrong API key: OneNET answers errno 3; the close fails at once (it is never
    resent), with a command_failed alarm quoting the platform. An arm, which neither
    platform can say, fails the same way."""
    fake, api_url = stand_in
    registry = sqlite_registry(tmp_path)
    provision(registry)
    settings = platform_settings(mosquitto, tmp_path, api_url, api_key="not-the-key")
    ingester = start_ingester(settings, registry, influx_store)
    otto = Actor("otto", "operator", "test")
    try:
        close, _ = registry.commands.create(
            NewCommand(f"NB{IMEI}", "close", "smell of gas reported", "maintenance"),
            otto,
            now_ms(),
            3_600_000,
        )
        arm, _ = registry.commands.create(
            NewCommand(DEVICE, "arm", "customer may reopen", "maintenance"),
            otto,
            now_ms(),
            3_600_000,
        )
        ids = (close.id, arm.id)
        wait_until(
            lambda: all(registry.commands.get(i).state == "failed" for i in ids),
            what="both failed",
        )
        assert "auth failed" in (registry.commands.get(close.id).error or "")
        assert "has no 'arm'" in (registry.commands.get(arm.id).error or "")
        rules = [a.rule for a in registry.alarms.find()]
        assert rules.count("command_failed") == 2
        assert fake.refused == ["onenet: api-key"] and fake.cached == []
    finally:
        ingester.stop()


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.name)
def test_thresholds_go_to_the_platforms_cache_and_are_held_once_the_meter_takes_them(
    mosquitto: MosquittoServer,
    influx_store: InfluxTelemetryStore,
    stand_in: tuple[SimulatedPlatform, str],
    receiver_url: str,
    tmp_path: Path,
    platform: Platform,
) -> None:
    fake, api_url = stand_in
    registry = sqlite_registry(tmp_path)
    provision(registry)
    settings = platform_settings(mosquitto, tmp_path, api_url)
    profiles = wiring.device_profiles(settings)
    sara = Actor("sara", "supervisor", "test")
    wanted = Thresholds(micro_flow_m3h=0.02, over_flow_m3h=4.0)
    registry.meters.set_thresholds(platform.meter_id, wanted, sara, "fit", now_ms())
    ingester = start_ingester(settings, registry, influx_store)
    try:
        meter = registry.meters.get(platform.meter_id)
        profile = profiles[meter.device_profile]
        new = download_command(profile.thresholds, meter, "fit the new model")
        window = window_for(profiles, meter, now_ms(), 3_600_000)
        download, _ = registry.commands.create(new, sara, now_ms(), window.ttl_ms, window)
        wait_until(lambda: fake.pending(platform.device), what="the download in the cache")
        (cached,) = fake.pending(platform.device)
        if platform.name == "onenet":
            assert json.loads(cached.request["args"]) == wanted.as_dict()
            assert (cached.request["obj_id"], cached.request["res_id"]) == (3202, 5850)
        else:
            content = cached.request["content"]
            assert content == {"params": wanted.as_dict(), "serviceIdentifier": "threshold_set"}
        wait_until(lambda: registry.commands.get(download.id).state == "sent", what="sent")
        fake.wake(platform.device, now_ms())
        wait_until(lambda: registry.commands.get(download.id).state == "succeeded", what="held")
        status = threshold_status(profile.thresholds, registry.meters.get(platform.meter_id))
        assert status.matches and status.held == wanted.as_dict()
        assert fake.refused == [] and registry.dead_letters.count() == 0
    finally:
        ingester.stop()
