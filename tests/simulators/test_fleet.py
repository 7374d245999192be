"""Several ``gasguard simulate`` processes split one fleet: each takes a disjoint range of
meter ids (``first_index`` + ``meters``), and together they are the whole fleet."""

from __future__ import annotations

from simulators.config import SimulatorConfig
from simulators.fleet import build_fleet, meter_ids

START_MS = 1_790_000_000_000


def test_processes_with_consecutive_ranges_split_a_fleet_without_overlap() -> None:
    whole = meter_ids(SimulatorConfig(meters=300_000, first_index=0))
    parts = [meter_ids(SimulatorConfig(meters=100_000, first_index=k * 100_000)) for k in range(3)]
    assert [meter for part in parts for meter in part] == whole
    assert len(set(whole)) == 300_000


def test_each_process_injects_its_own_faults_with_ground_truth() -> None:
    plan = build_fleet(SimulatorConfig(meters=500, first_index=500, seed=3), START_MS)
    ids = {m.meter_id for m in plan.meters}
    assert len(ids) == 500 and all(int(meter_id[2:]) >= 500 for meter_id in ids)
    assert {kind for _, kind, _ in plan.labels} == {"leak_detector", "over_flow", "micro_flow"}
    assert all(meter_id in ids for meter_id, _, _ in plan.labels)
