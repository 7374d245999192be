"""The city by area, on SQLite and PostgreSQL: meters in service per district or pressure
zone, their closed valves, their open alarms by severity, the worst first."""

from __future__ import annotations

from contract.decisions import Decision
from devices.profiles import BUILT_IN
from meters.delivery_files import import_delivery
from meters.lifecycle import LifecycleStep
from meters.registry import MeterSighting, Registry
from meters.views import Actor
from safety.models import default_models

T0 = 1_790_000_000_000
SAM = Actor("sam", "supervisor", "test")
DELIVERY = (
    b"meter_id,model,profile,imei,district,pressure_zone\n"
    b"A1,G2.5,gasguard-json,868000000000001,North,RS-1\n"
    b"A2,G2.5,gasguard-json,868000000000019,North,RS-2\n"
    b"B1,G2.5,gasguard-json,868000000000027,South,RS-2\n"
    b"C1,G2.5,gasguard-json,868000000000035,,\n"
)


def test_areas_count_their_meters_valves_and_open_alarms(registry: Registry) -> None:
    report = import_delivery(
        registry.meters, DELIVERY, "d.csv", tuple(default_models()), BUILT_IN, SAM, T0
    )
    assert report.created == ("A1", "A2", "B1", "C1"), report.errors
    registry.meters.record_sightings({"A2": MeterSighting(T0, T0, "closed")})
    registry.alarms.record(Decision(T0, "B1", "leak_detector", "shutoff"), T0)
    registry.alarms.record(Decision(T0, "A1", "tamper", "alarm"), T0)
    registry.alarms.record(Decision(T0, "A2", "low_battery", "alarm"), T0)
    cleared, _ = registry.alarms.record(Decision(T0, "A1", "over_flow", "shutoff"), T0)
    registry.alarms.clear(cleared.id, SAM, "checked", T0)  # cleared: not open
    by_district = [
        (v.area, v.meters, v.valves_closed, v.critical, v.warning, v.info, v.worst)
        for v in registry.areas.summary("district")
    ]
    assert by_district == [
        ("South", 1, 0, 1, 0, 0, "critical"),
        ("North", 2, 1, 0, 1, 1, "warning"),
        (None, 1, 0, 0, 0, 0, "none"),
    ]
    zones = {v.area: (v.meters, v.critical) for v in registry.areas.summary("pressure_zone")}
    assert zones == {"RS-2": (2, 1), "RS-1": (1, 0), None: (1, 0)}
    assert [m.id for m in registry.meters.find(district="North")] == ["A1", "A2"]
    assert [m.id for m in registry.meters.find(pressure_zone="RS-2")] == ["A2", "B1"]
    step = registry.meters.lifecycle_step
    step("C1", LifecycleStep("install", "x", installer="li"), SAM, T0)
    step("C1", LifecycleStep("remove", "x", register_m3=0.0), SAM, T0)
    assert [v.area for v in registry.areas.summary("district")] == ["South", "North"]  # removed
