"""A simulated fleet fast-forwarded into a replay file (DESIGN.md's replay format) and its
ground truth: what ``gasguard simulate --to-file`` writes. Pure apart from the two text
streams it is given."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from contract.events import MeterEvent
from contract.protocol import reading_to_json
from contract.readings import Reading
from simulators.scenarios import ScenarioMeter, arrivals

PROGRESS_EVERY = 500_000


@dataclass(slots=True)
class Written:
    meters: int = 0
    readings: int = 0
    events: int = 0
    labels: int = 0


def write_replay(
    meters: list[ScenarioMeter],
    out: IO[str],
    labels: IO[str],
    progress: Callable[[Written], None] = lambda _: None,
) -> Written:
    """Declarations, then every message in arrival order, one JSON object a line; one
    label line per injected fault: the rule, action and window the engine must meet."""
    written = Written()
    for meter in meters:
        profile = meter.profile
        declaration = {
            "type": "meter",
            "meter": profile.meter_id,
            "model": profile.model,
            "category": profile.category,
            "report_interval_s": profile.report_interval_s,
        }
        out.write(json.dumps(declaration) + "\n")
        written.meters += 1
        if meter.expect is not None:
            labels.write(json.dumps(label(meter)) + "\n")
            written.labels += 1
    for message in arrivals(meters):
        out.write(json.dumps(record(message), separators=(",", ":")) + "\n")
        if isinstance(message, Reading):
            written.readings += 1
        else:
            written.events += 1
        if (written.readings + written.events) % PROGRESS_EVERY == 0:
            progress(written)
    return written


def record(message: Reading | MeterEvent) -> dict[str, object]:
    if isinstance(message, Reading):
        return {"type": "reading", "meter": message.meter_id, **reading_to_json(message)}
    return {"type": "event", "meter": message.meter_id, "ts": message.ts_ms, "event": message.event}


def label(meter: ScenarioMeter) -> dict[str, object]:
    assert meter.expect is not None
    expect = meter.expect
    return {
        "meter": meter.profile.meter_id,
        "fault": meter.kind,
        "rule": expect.rule,
        "action": expect.action,
        "from_ms": expect.from_ms,
        "until_ms": expect.from_ms + expect.deadline_ms,
    }
