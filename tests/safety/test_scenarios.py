"""Quality of detection over the scenario library: every fault found by the right rule
with the right action within its deadline, and no shutoff of a normal meter (households,
restaurants, and meters with data-quality problems). The table of recall, delay and
false alarms per rule is printed and kept in test-artifacts/detection.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract.decisions import Decision
from safety.engine import SafetyEngine
from simulators.library import RULE_ORDER, RULES, library
from simulators.scenarios import ScenarioMeter, detections, score, stream, table


@pytest.fixture(scope="module")
def outcome() -> tuple[list[ScenarioMeter], list[Decision]]:
    meters = library()
    engine = SafetyEngine(RULES, {m.profile.meter_id: m.profile for m in meters})
    return meters, engine.process(stream(meters))


def test_every_fault_is_detected_by_the_right_rule_within_its_deadline(
    outcome: tuple[list[ScenarioMeter], list[Decision]],
) -> None:
    meters, decisions = outcome
    missed = [
        (d.meter.profile.meter_id, d.meter.kind, d.meter.expect)
        for d in detections(meters, decisions)
        if d.decision is None
    ]
    assert missed == []
    faulty = {m.expect.rule for m in meters if m.expect is not None}
    assert faulty == set(RULE_ORDER), "the library covers every rule"


def test_no_normal_meter_is_ever_shut_off(
    outcome: tuple[list[ScenarioMeter], list[Decision]],
) -> None:
    meters, decisions = outcome
    normal = {m.profile.meter_id: m.kind for m in meters if m.expect is None}
    shutoffs = [
        (d.meter_id, normal[d.meter_id], d.rule)
        for d in decisions
        if d.meter_id in normal and d.action == "shutoff"
    ]
    assert shutoffs == []


def test_the_detection_table(
    outcome: tuple[list[ScenarioMeter], list[Decision]],
) -> None:
    meters, decisions = outcome
    scores = score(meters, decisions, RULE_ORDER)
    text = table(scores)
    print("\n" + text)
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "detection.md").write_text(text + "\n")
    assert all(s.recall == 1.0 for s in scores)
    assert sum(s.false_shutoffs for s in scores) == 0
