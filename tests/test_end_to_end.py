"""Simulated meters -> Mosquitto -> ingest -> InfluxDB -> API; a detector alarm closes a
valve, and the simulated meter obeys and reports it."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from api.app import create_app
from gasguard import wiring
from gasguard.servers import InfluxServer, MosquittoServer
from meters.clock import wall_clock_ms
from meters.telemetry import InfluxTelemetryStore
from simulators.fleet import build_fleet
from tests.api.conftest import add_user, api_context, bearer
from tests.conftest import sqlite_registry
from tests.helpers import one_leak_fleet, settings_for, start_ingester, wait_until


def test_fleet_to_influx_to_api_and_a_leak_closes_the_valve(
    mosquitto: MosquittoServer, influxd: InfluxServer, tmp_path: Path
) -> None:
    simulator = one_leak_fleet(6, "E2E", leak_after_s=2.0)
    settings = settings_for(
        mosquitto.url, tmp_path, influx_url=influxd.url, influx_db="e2e", simulator=simulator
    )
    registry = sqlite_registry(tmp_path)
    store = wiring.open_telemetry(settings)
    assert isinstance(store, InfluxTelemetryStore)
    plan = build_fleet(settings.simulator, time.time_ns() // 1_000_000)
    wiring.provision_fleet(registry, plan, 0)
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
        assert api.get("/api/v1/health").json() == {
            "status": "ok",
            "registry": True,
            "telemetry": True,
        }
    finally:
        runner.stop()
        ingester.stop()
        store.close()
