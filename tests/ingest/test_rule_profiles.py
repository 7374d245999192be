"""The rules follow the registry while the ingester runs (ingest.rule_profiles): a meter
provisioned, imported or replaced gets its profile in the engine at the next look, once;
a replaced meter's offline deadline stops; a change stamped a little earlier by another
process but committed later is not missed. On SQLite (the store's query), no broker."""

from __future__ import annotations

from pathlib import Path

from contract.profiles import MeterProfile
from contract.readings import Reading
from devices.profiles import BUILT_IN
from ingest.rule_profiles import RuleProfiles
from meters.delivery_files import import_delivery
from meters.lifecycle import LifecycleStep
from meters.views import Actor
from safety.engine import SafetyEngine
from safety.layout import SCHEDULED
from safety.models import default_models
from tests.conftest import sqlite_registry

T0 = 1_790_000_000_000
OTTO = Actor("otto", "operator", "test")


def test_the_engine_follows_provisioning_imports_and_a_replacement(tmp_path: Path) -> None:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("A", "G4", "commercial", 3600, "onenet")], T0)
    engine = SafetyEngine()
    follow = RuleProfiles(engine, registry.meters, BUILT_IN)
    assert [c.profile.meter_id for c in follow.refresh()] == ["A"]
    daily = BUILT_IN["onenet"].wake_every_s  # it sleeps: offline waits for its uploads
    assert engine.profile("A") == MeterProfile("A", "G4", "commercial", 3600, upload_every_s=daily)
    assert follow.refresh() == []  # applied once
    delivery = b"meter_id,model,profile,imei\nB,G2.5,onenet,868000000000001\n"
    models = tuple(default_models())
    import_delivery(registry.meters, delivery, "d.csv", models, BUILT_IN, OTTO, T0 + 10)
    assert [c.profile.meter_id for c in follow.refresh()] == ["B"]
    assert engine.profile("B").report_interval_s == 3600  # it reads hourly, uploads daily
    assert engine.profile("B").upload_every_s == daily
    engine.process([Reading("A", T0 + 30, 1.0, 0.0)])  # seen: its offline deadline runs
    assert engine.states[engine.index.find("A")]["flags"] & SCHEDULED
    swap = LifecycleStep("replace", "x", register_m3=9.0, new_meter_id="B", new_register_m3=0.0)
    registry.meters.lifecycle_step("A", swap, OTTO, T0 + 40)
    changed = {c.profile.meter_id: c.in_service for c in follow.refresh()}
    assert changed == {"A": False, "B": True}
    assert not engine.states[engine.index.find("A")]["flags"] & SCHEDULED  # retired
    assert engine.profile("B").category == "commercial"  # the customer's, carried over
    late = MeterProfile("C", "G6", "industrial", 900)
    registry.meters.provision([late], T0 + 5)  # stamped before the newest, committed now
    assert [c.profile.meter_id for c in follow.refresh()] == ["C"]
    assert engine.profile("C") == late


def test_a_lane_follows_only_its_own_meters(tmp_path: Path) -> None:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("A", report_interval_s=900), MeterProfile("B")], T0)
    engine = SafetyEngine()
    follow = RuleProfiles(engine, registry.meters, BUILT_IN, owns=lambda meter_id: meter_id == "A")
    assert [c.profile.meter_id for c in follow.refresh()] == ["A"]
    assert engine.meters == 1 and engine.profile("A").report_interval_s == 900
