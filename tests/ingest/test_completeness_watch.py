"""Meters with incomplete data raise low_completeness alarms, on both registries."""

from __future__ import annotations

from pathlib import Path

from contract.profiles import MeterProfile
from contract.readings import Reading
from ingest.completeness_watch import CompletenessWatch
from meters.registry import MeterSighting, Registry
from telemetry import SqliteTelemetryStore

T0 = 1_772_409_600_000
HOUR = 3_600_000


def test_a_meter_below_the_share_gets_one_alarm_with_its_figures(
    registry: Registry, tmp_path: Path
) -> None:
    registry.meters.provision([MeterProfile(m, report_interval_s=3600) for m in ("OK", "GAP")], T0)
    registry.meters.provision([MeterProfile("STOCK", report_interval_s=3600)], T0)  # never heard
    registry.meters.record_sightings({m: MeterSighting(T0 + 1) for m in ("OK", "GAP")})
    store = SqliteTelemetryStore(tmp_path / "t.db")
    store.write([Reading("OK", T0 + h * HOUR, 1.0 + h) for h in range(24)])
    store.write([Reading("GAP", T0 + h * HOUR, 1.0 + h) for h in range(0, 24, 3)])
    watch = CompletenessWatch(registry, store, 86_400, 0.9, lambda: T0 + 24 * HOUR)
    (decision,) = watch.run(T0 + 24 * HOUR)
    assert decision.meter_id == "GAP" and decision.rule == "low_completeness"
    assert (decision.detail["expected"], decision.detail["received"]) == (24, 8)
    watch.run(T0 + 25 * HOUR)  # still incomplete: the same alarm, updated
    (alarm,) = registry.alarms.find()
    assert (alarm.meter_id, alarm.repeat_count, alarm.severity) == ("GAP", 2, "warning")
    store.close()
