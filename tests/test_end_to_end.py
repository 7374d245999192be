"""Simulated meters -> Mosquitto -> ingest -> InfluxDB -> API; a detector alarm closes a
valve, and the simulated meter obeys and reports it."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from api.app import create_app
from connections.policies import years_ahead
from connections.workdays import WorkCalendar
from gasguard import wiring
from gasguard.servers import InfluxServer, MosquittoServer
from gasguard.settings import Settings
from meters.clock import wall_clock_ms
from meters.registry import Registry
from simulators.config import SimulatorConfig
from simulators.fleet import FleetPlan, build_fleet
from telemetry import InfluxTelemetryStore
from telemetry.base import TelemetryStore
from tests.api.conftest import add_user, api_context, bearer
from tests.conftest import sqlite_registry
from tests.helpers import one_leak_fleet, settings_for, start_ingester, wait_until


def provisioned_fleet(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    tmp_path: Path,
    simulator: SimulatorConfig,
    influx_db: str,
) -> tuple[Settings, Registry, TelemetryStore, FleetPlan]:
    """Settings for the live fleet, a fresh registry with the fleet provisioned, and the
    InfluxDB store."""
    settings = settings_for(
        mosquitto.url, tmp_path, influx_url=influxd.url, influx_db=influx_db, simulator=simulator
    )
    registry = sqlite_registry(tmp_path)
    store = wiring.open_telemetry(settings)
    plan = build_fleet(settings.simulator, time.time_ns() // 1_000_000)
    wiring.provision_fleet(registry, plan, 0)
    return settings, registry, store, plan


def test_fleet_to_influx_to_api_and_a_leak_closes_the_valve(
    mosquitto: MosquittoServer, influxd: InfluxServer, tmp_path: Path
) -> None:
    simulator = one_leak_fleet(6, "E2E", leak_after_s=2.0)
    settings, registry, store, plan = provisioned_fleet(
        mosquitto, influxd, tmp_path, simulator, "e2e"
    )
    assert isinstance(store, InfluxTelemetryStore)
    ((leaky, kind, _),) = plan.labels
    assert kind == "leak_detector"
    ingester = start_ingester(settings, registry, store)
    runner = wiring.build_fleet_runner(settings, plan)
    runner.start()
    add_user(registry, "vera", "viewer", 0)
    api = TestClient(
        create_app(api_context(registry, store, wall_clock_ms, metrics=CollectorRegistry()))
    )
    api.headers.update(bearer(api, "vera"))
    try:
        assert runner.wait_connected(10)
        healthy = next(m.meter_id for m in plan.meters if m.meter_id != leaky)
        wait_until(
            lambda: store.count(healthy) >= 5, what="readings of a healthy meter in InfluxDB"
        )

        wait_until(
            lambda: runner.meter(leaky).valve == "closed",
            what="the leaking meter to close its valve",
        )
        wait_until(
            lambda: registry.commands.find(leaky)[0].state == "succeeded", what="command succeeded"
        )
        wait_until(
            lambda: (latest := store.latest(leaky)) is not None and latest.valve == "closed",
            what="telemetry reporting the closed valve",
        )
        closed = store.latest(leaky)
        assert closed is not None and closed.flow_m3h == 0.0

        now_ms = time.time_ns() // 1_000_000
        window = {"start": now_ms - 3_600_000, "end": now_ms + 1000}
        response = api.get(f"/api/v1/meters/{healthy}/readings", params=window)
        assert response.status_code == 200
        readings = response.json()["readings"]
        assert len(readings) >= 5
        assert readings == sorted(readings, key=lambda r: r["ts"])
        assert {r["valve"] for r in readings} == {"open"}

        meter = api.get(f"/api/v1/meters/{leaky}").json()
        assert meter["valve"] == "closed" and meter["latest"]["valve"] == "closed"
        alarms = api.get("/api/v1/alarms", params={"state": "active"}).json()
        assert [(a["meter_id"], a["rule"], a["action"]) for a in alarms] == [
            (leaky, "leak_detector", "shutoff")
        ]
        command = api.get(f"/api/v1/commands/{registry.commands.find(leaky)[0].id}").json()
        assert command["state"] == "succeeded" and command["reply"]["valve"] == "closed"
        needed = years_ahead(wall_clock_ms())  # the holiday schedules needed today
        assert api.get("/api/v1/health").json() == {
            "status": "ok",
            "registry": True,
            "telemetry": True,
            "calendar_missing_years": WorkCalendar().missing(needed),
        }
    finally:
        runner.stop()
        ingester.stop()
        store.close()


def test_every_injected_fault_of_the_live_simulator_is_detected(
    mosquitto: MosquittoServer, influxd: InfluxServer, tmp_path: Path
) -> None:
    """Ground truth from the live fleet (its labels) against the alarms the ingester raised:
    each labelled fault is found on its meter by the rule of the same name, and nothing
    fires on the healthy meters. (Flow faults need a minute or hours of event time: the
    first test and the scenario library cover them.)"""
    simulator = one_leak_fleet(12, "FLT", leak_after_s=1.0).model_copy(
        update={
            "more_faults": ["seismic", "tamper", "pressure_low", "pressure_high", "low_battery"],
        }
    )
    settings, registry, store, plan = provisioned_fleet(
        mosquitto, influxd, tmp_path, simulator, "faults"
    )
    truth = {(meter_id, kind) for meter_id, kind, _ in plan.labels}
    assert {kind for _, kind in truth} == {
        "leak_detector",
        "seismic",
        "tamper",
        "pressure_low",
        "pressure_high",
        "low_battery",
    }
    ingester = start_ingester(settings, registry, store)
    runner = wiring.build_fleet_runner(settings, plan)
    runner.start()
    try:
        assert runner.wait_connected(10)

        def found() -> set[tuple[str, str]]:
            return {(a.meter_id, a.rule) for a in registry.alarms.find(limit=500)}

        wait_until(lambda: truth <= found(), 60, "an alarm for every injected fault")
        faulty = {meter_id for meter_id, _ in truth}
        # A shutoff fault's meter may raise a follow-on alarm (its valve closes, pressure
        # drops); a healthy meter raises none.
        assert {meter_id for meter_id, _ in found()} <= faulty
    finally:
        runner.stop()
        ingester.stop()
        store.close()


def test_a_meter_out_of_network_raises_offline_and_clears_it_when_heard_again(
    mosquitto: MosquittoServer, influxd: InfluxServer, tmp_path: Path
) -> None:
    """A meter loses the network for 14 s (its profile reports every second: offline after
    10 s of silence against the fleet), then uploads what it measured: the alarm opens
    while it is away and is cleared by gasguard when it is heard again."""
    simulator = one_leak_fleet(6, "NET", leak_after_s=3_600).model_copy(
        update={"leak_faults": 0, "offline_meters": 1, "offline_after_s": 1, "offline_for_s": 14}
    )
    settings, registry, store, plan = provisioned_fleet(
        mosquitto, influxd, tmp_path, simulator, "net"
    )
    (gone,) = [m.meter_id for m in plan.meters if m.offline is not None]
    ingester = start_ingester(settings, registry, store)
    runner = wiring.build_fleet_runner(settings, plan)
    runner.start()
    try:
        assert runner.wait_connected(10)

        def offline_alarms() -> list[tuple[str, str, str | None]]:
            alarms = registry.alarms.find(limit=100)
            return [(a.meter_id, a.state, a.cleared_by) for a in alarms if a.rule == "offline"]

        wait_until(lambda: offline_alarms() == [(gone, "active", None)], 40, "offline alarm")
        wait_until(
            lambda: offline_alarms() == [(gone, "cleared", "gasguard-safety")],
            40,
            "the offline alarm cleared once the meter is heard again",
        )
        assert {a.meter_id for a in registry.alarms.find(limit=100)} == {gone}
    finally:
        runner.stop()
        ingester.stop()
        store.close()
