"""Engine state survives a snapshot round trip: decisions are those of an engine that
never stopped."""

from __future__ import annotations

import json

import pytest

from safety import MeterEvent, Reading, SafetyEngine
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
    assert load(restored, json.loads(json.dumps(dump(first)))) == 1
    assert restored.process(after) == expected


def test_open_episodes_stay_open_and_the_watermark_and_deadlines_come_back() -> None:
    first = SafetyEngine()
    first.process([MeterEvent("L1", T0, "detector_alarm"), *others(range(0, 5))])
    restored = SafetyEngine()
    load(restored, json.loads(json.dumps(dump(first))))
    assert restored.process([MeterEvent("L1", T0 + MIN, "detector_alarm")]) == []  # same episode
    assert restored.watermark.value == first.watermark.value
    silent = restored.process(others(range(5, 12)))
    assert [(d.meter_id, d.rule) for d in silent] == [("L1", "offline")]


def test_a_snapshot_of_another_version_is_refused() -> None:
    with pytest.raises(SnapshotError, match="version"):
        load(SafetyEngine(), {"version": 99, "meters": {}, "watermark": {}})
    with pytest.raises(SnapshotError, match="unknown state field"):
        load(SafetyEngine(), {"version": 1, "meters": {"M": {"nonsense": 1}}, "watermark": {}})
