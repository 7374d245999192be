"""``gasguard simulate --to-file``: the scenario library fast-forwarded into a replay file
with its ground truth; ``gasguard replay`` on that file finds every labelled fault with
the right rule and action inside its window, and shuts off no normal meter."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import gasguard


def test_a_fast_forwarded_fleet_replays_to_its_ground_truth(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.jsonl"
    made = gasguard(
        "simulate", "--to-file", str(fleet), "--households", "4", "--restaurants", "1",
        "--days", "3", "--start", "2026-05-04",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    labels = [json.loads(line) for line in fleet.with_suffix(".labels.jsonl").open()]
    assert "faults ->" in made.stderr
    assert {label["rule"] for label in labels} >= {"micro_flow", "offline", "no_flow_gap"}
    first = json.loads(fleet.open().readline())
    assert first["type"] == "meter"

    replayed = gasguard("replay", str(fleet))
    assert replayed.returncode == 0, replayed.stderr
    decisions = [json.loads(line) for line in replayed.stdout.splitlines()]
    missed = [
        label
        for label in labels
        if not any(
            d["meter"] == label["meter"]
            and d["rule"] == label["rule"]
            and d["action"] == label["action"]
            and label["from_ms"] <= d["ts"] <= label["until_ms"]
            for d in decisions
        )
    ]
    assert missed == []
    faulty = {label["meter"] for label in labels}
    assert [d for d in decisions if d["meter"] not in faulty and d["action"] == "shutoff"] == []
