"""Engine state survives a snapshot round trip: decisions are those of an engine that
never stopped."""

from __future__ import annotations

import io

import numpy as np
import pytest

from safety import MeterEvent, MeterProfile, Reading, SafetyEngine
from safety.snapshot import SnapshotError, dump, load

MIN = 60_000
T0 = 1_790_000_000_000


def micro(minutes: range, meter: str = "M1") -> list[Reading]:
    return [Reading(meter, T0 + m * MIN, 100 + 0.012 * m / 60, flow_m3h=0.012) for m in minutes]


def others(minutes: range) -> list[Reading]:
    return [Reading(m, T0 + i * MIN, 1.0, 0.0) for i in minutes for m in ("A", "B", "C")]


def test_a_three_hour_micro_flow_episode_is_not_forgotten() -> None:
    before, after = micro(range(0, 180)), micro(range(180, 300))
    uninterrupted = SafetyEngine()
    expected = uninterrupted.process([*before, *after])
    assert [d.rule for d in expected] == ["micro_flow"]

    first = SafetyEngine()
    assert first.process(before) == []
    restored = SafetyEngine()
    assert load(restored, dump(first)) == 1
    assert restored.process(after) == expected


def test_open_episodes_stay_open_and_the_watermark_and_deadlines_come_back() -> None:
    first = SafetyEngine()
    first.process([MeterEvent("L1", T0, "detector_alarm"), *others(range(0, 5))])
    restored = SafetyEngine()
    load(restored, dump(first))
    assert restored.process([MeterEvent("L1", T0 + MIN, "detector_alarm")]) == []  # same episode
    assert restored.watermark.value == first.watermark.value
    silent = restored.process(others(range(5, 12)))
    assert [(d.meter_id, d.rule) for d in silent] == [("L1", "offline")]


def test_a_snapshot_of_another_version_or_layout_or_garbage_is_refused() -> None:
    engine = SafetyEngine()
    engine.process(micro(range(3)))
    good = dict(np.load(io.BytesIO(dump(engine))))
    for change, match in (
        ({"version": np.array(99)}, "version 99"),
        ({"layout": np.array("[('x', '<i8')]")}, "another state layout"),
        ({"ids": good["ids"][:, :8]}, "do not match"),
    ):
        buffer = io.BytesIO()
        np.savez(buffer, **{**good, **change})
        with pytest.raises(SnapshotError, match=match):
            load(SafetyEngine(), buffer.getvalue())
    with pytest.raises(SnapshotError, match="malformed"):
        load(SafetyEngine(), b'{"version": 1, "meters": {}}')  # a version-1 JSON snapshot


def test_restoring_keeps_the_profiles_the_engine_already_has() -> None:
    first = SafetyEngine(profiles={"M1": MeterProfile("M1", model="G4")})
    first.process(micro(range(3)))
    restored = SafetyEngine(profiles={"M1": MeterProfile("M1", model="G6", category="commercial")})
    assert load(restored, dump(first)) == 1
    assert restored.profile("M1") == MeterProfile("M1", model="G6", category="commercial")
    fresh = SafetyEngine()
    load(fresh, dump(first))
    assert fresh.profile("M1").model == "G4"
