"""``gasguard replay``: the DESIGN.md replay contract, run as a user runs it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from gasguard import replay as replay_module
from safety.config import RulesConfig
from tests.helpers import gasguard

T0 = 1_790_000_000_000
MIN = 60_000


def write_jsonl(path: Path, records: list[dict[str, object] | str]) -> None:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")


def test_replay_outputs_one_line_per_decision_in_order(tmp_path: Path) -> None:
    records: list[dict[str, object] | str] = [
        {
            "type": "meter",
            "meter": "BIG",
            "model": "G4",
            "category": "residential",
            "report_interval_s": 60,
        },
        {
            "type": "meter",
            "meter": "SHOP",
            "model": "G2.5",
            "category": "commercial",
            "report_interval_s": 60,
        },
    ]
    for i in range(5 * 60):
        records.append(
            {
                "type": "reading",
                "meter": "BIG",
                "ts": T0 + i * MIN,
                "volume_m3": 1 + 5.0 * i / 60,
                "flow_m3h": 5.0,
            }
        )
        records.append(
            {
                "type": "reading",
                "meter": "SHOP",
                "ts": T0 + i * MIN,
                "volume_m3": 1 + 0.01 * i / 60,
                "flow_m3h": 0.01,
            }
        )
        records.append(
            {
                "type": "reading",
                "meter": "G25",
                "ts": T0 + i * MIN,
                "volume_m3": 1 + 5.0 * i / 60,
                "flow_m3h": 5.0,
            }
        )
    records.append(
        {"type": "event", "meter": "LEAK", "ts": T0 + 7 * MIN, "event": "detector_alarm"}
    )
    records.append("{broken")
    records.append({"type": "reading", "meter": "BIG", "ts": T0, "volume_m3": -1})
    source = tmp_path / "input.jsonl"
    write_jsonl(source, records)

    result = gasguard("replay", str(source))
    assert result.returncode == 0, result.stderr
    decisions = [json.loads(line) for line in result.stdout.splitlines()]
    summary = [(d["meter"], d["rule"], d["action"], d["ts"]) for d in decisions]
    # In the order decided, which is input order: the leak event is the last input line,
    # so its meter has been silent (in event time) since its one message: offline.
    assert summary == [
        ("G25", "over_flow", "shutoff", T0 + 2 * MIN),  # undeclared meter: G2.5 limit 4.5
        ("BIG", "prolonged_use", "shutoff", T0 + 62 * MIN),  # >= 2.0 m³/h for over 60 min
        ("G25", "prolonged_use", "shutoff", T0 + 62 * MIN),
        ("SHOP", "micro_flow", "alarm", T0 + MIN + 4 * 60 * MIN),  # commercial: alarm only
        ("LEAK", "leak_detector", "shutoff", T0 + 7 * MIN),
        ("LEAK", "offline", "alarm", T0 + 299 * MIN),
    ]
    assert all(set(d) == {"ts", "meter", "rule", "action", "detail"} for d in decisions)
    assert "line 904 rejected: not JSON" in result.stderr
    assert "line 905 rejected: field 'volume_m3' must be >= 0" in result.stderr


def test_replay_takes_a_rules_file(tmp_path: Path) -> None:
    source = tmp_path / "input.jsonl"
    write_jsonl(
        source,
        [
            {
                "type": "reading",
                "meter": "M",
                "ts": T0 + i * MIN,
                "volume_m3": 5.0 * i / 60,
                "flow_m3h": 5.0,
            }
            for i in range(4)
        ],
    )
    rules = tmp_path / "rules.toml"
    rules.write_text("[models.G2.5]\nover_flow_m3h = 6.0\n")
    assert gasguard("replay", str(source)).stdout.count("over_flow") == 1
    assert gasguard("replay", str(source), "--config", str(rules)).stdout == ""


def test_rules_show_prints_the_effective_configuration(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[over_flow]\nhold_s = 120\n")
    shown = json.loads(gasguard("rules", "show", "--config", str(rules)).stdout)
    assert shown["over_flow"]["hold_s"] == 120
    assert shown["models"]["G2.5"] == {"over_flow_m3h": 4.5, "sudden_step_m3h": 3.6}


def test_a_bad_rules_file_is_a_clear_error(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[over_flow]\nhold = 1\n")
    result = gasguard("rules", "show", "--config", str(rules))
    assert result.returncode == 1 and "unknown key 'hold'" in result.stderr


def _reading(meter: str, minute: int, flow: float) -> dict[str, object]:
    return {
        "type": "reading",
        "meter": meter,
        "ts": T0 + minute * MIN,
        "volume_m3": 1 + flow * minute / 60,
        "flow_m3h": flow,
    }


def test_batching_does_not_change_the_decisions_and_a_declaration_applies_from_its_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reader hands the engine chunks of lines: a chunk boundary anywhere gives the same
    output, and a meter declared mid-file keeps its old profile for the lines before."""
    lines = [json.dumps(_reading("M", minute, 5.0)) for minute in range(4)]
    lines.append(json.dumps({"type": "meter", "meter": "M", "model": "G6"}))  # limit 10.9
    lines += [json.dumps(_reading("M", minute, 5.0)) for minute in range(10, 14)]
    lines += [json.dumps(_reading("N", minute, 5.0)) for minute in range(4)]
    text = "\n".join(lines) + "\n"

    def run(chunk_lines: int) -> str:
        monkeypatch.setattr(replay_module, "CHUNK_LINES", chunk_lines)
        out = io.StringIO()
        replay_module.replay(io.StringIO(text), out, RulesConfig(), io.StringIO())
        return out.getvalue()

    whole = run(10_000)
    decisions = [(d["meter"], d["rule"]) for d in map(json.loads, whole.splitlines())]
    # M: over the G2.5 limit before its declaration, not after (G6); N: undeclared
    assert decisions == [("M", "over_flow"), ("N", "over_flow")]
    for chunk_lines in (1, 2, 3, 5, 7):
        assert run(chunk_lines) == whole
