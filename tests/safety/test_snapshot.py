"""Engine state survives a snapshot round trip: decisions are those of an engine that
never stopped."""

from __future__ import annotations

import base64
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pytest

from safety import MeterEvent, MeterProfile, Reading, SafetyEngine
from safety.snapshot import SnapshotError, dump, load

DATA = Path(__file__).resolve().parents[1] / "data"
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


def _retyped(states: np.ndarray, name: str, dtype: str) -> np.ndarray:
    layout = [(n, dtype if n == name else states.dtype[n]) for n in states.dtype.names or ()]
    return states.astype(np.dtype(layout))


def test_a_snapshot_of_another_version_or_a_changed_field_or_garbage_is_refused() -> None:
    engine = SafetyEngine()
    engine.process(micro(range(3)))
    good = dict(np.load(io.BytesIO(dump(engine))))
    for change, match in (
        ({"version": np.array(99)}, "version 99"),
        ({"states": _retyped(good["states"], "last_ts", "<f8")}, "field 'last_ts' is float64"),
        ({"states": np.zeros(len(good["states"]), dtype=np.int64)}, "not records"),
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


def _without(states: np.ndarray, name: str) -> np.ndarray:
    kept = [n for n in states.dtype.names or () if n != name]
    return np.array(states[kept].tolist(), dtype=np.dtype([(n, states.dtype[n]) for n in kept]))


def test_a_snapshot_from_before_a_rule_was_added_or_removed_loads() -> None:
    """Records are restored by field name: the fields of a rule added since start blank,
    those of a rule removed since are dropped, and so are their bits in open_rules."""
    first = SafetyEngine()
    first.process([MeterEvent("L1", T0, "detector_alarm"), *micro(range(0, 120))])
    saved = dict(np.load(io.BytesIO(dump(first))))
    older = _without(saved["states"], "micro_ts")  # as if micro_flow were new
    removed = np.dtype([*[(n, older.dtype[n]) for n in older.dtype.names or ()], ("gone", "<f8")])
    extra = np.zeros(len(older), dtype=removed)
    for name in older.dtype.names or ():
        extra[name] = older[name]
    extra["open_rules"] |= 1 << 15  # the bit of a rule that no longer exists
    buffer = io.BytesIO()
    np.savez(buffer, **{**saved, "states": extra})
    restored = SafetyEngine()
    assert load(restored, buffer.getvalue()) == 2
    slot = restored.index.find("M1")
    assert slot is not None and restored.states[slot]["micro_ts"] == np.iinfo(np.int64).min
    leak = restored.index.find("L1")
    assert leak is not None and restored.states[leak]["open_rules"] == 1 << 2  # leak_detector
    # micro_flow's episode starts again from the restored reading on: 4 h from minute 120
    later = restored.process(micro(range(120, 125 + 240)))
    assert [(d.rule, d.ts_ms) for d in later] == [("micro_flow", T0 + (120 + 240) * MIN)]


def test_a_snapshot_written_before_the_rule_units_gives_the_decisions_it_gave_then() -> None:
    """tests/data/snapshot_before_rule_units.json.gz: the engine of commit 0bc2e54 (before
    the rules became one module each and the packed record was reassembled from them), its
    snapshot in the middle of the differential replay, 36 meters with open episodes, and
    the 90 decisions it gave after the snapshot (tests/differential.py)."""
    from tests.differential import snapshot_items

    with gzip.open(DATA / "snapshot_before_rule_units.json.gz", "rt") as corpus:
        saved = json.load(corpus)
    profiles, items = snapshot_items()
    restored = SafetyEngine(profiles={p.meter_id: p for p in profiles})
    load(restored, base64.b64decode(saved["snapshot"]))
    after = [d.as_dict() for d in restored.process(items[saved["split"] :])]
    assert len(after) == len(saved["after"]) == 90
    assert after == saved["after"]
