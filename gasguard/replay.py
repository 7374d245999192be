"""``gasguard replay``: the safety engine over a recorded JSONL file, no broker, no database.

Input lines (DESIGN.md, replay contract): ``meter`` declarations, ``reading`` and ``event``
records. Output: one JSON line per decision, in the order decided. A bad line is reported
on stderr with its number and reason, and the replay goes on.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from ingest.decode import InvalidItem, is_one_of, parse_event, parse_reading
from meters.protocol import METER_ID_RE
from safety.config import RulesConfig
from safety.domain import CATEGORIES, MeterEvent, MeterProfile, Reading
from safety.engine import SafetyEngine

PROGRESS_EVERY_LINES = 200_000


@dataclass(slots=True)
class ReplayStats:
    lines: int = 0
    meters: int = 0  # declarations
    readings: int = 0
    events: int = 0
    rejected: int = 0
    decisions: int = 0


def _meter_id(record: dict[str, Any]) -> str:
    meter_id = record.get("meter")
    if not isinstance(meter_id, str) or not METER_ID_RE.match(meter_id):
        raise InvalidItem(
            "wrong_type", f"'meter' must be 1-32 characters of A-Z a-z 0-9 _ -, got {meter_id!r}"
        )
    return meter_id


def _profile(record: dict[str, Any]) -> MeterProfile:
    meter_id = _meter_id(record)
    model = record.get("model", "G2.5")
    category = record.get("category", "residential")
    interval = record.get("report_interval_s", 60)
    if not isinstance(model, str):
        raise InvalidItem("wrong_type", "'model' must be a string")
    if not is_one_of(category, CATEGORIES):
        raise InvalidItem(
            "wrong_type", f"'category' must be one of {sorted(CATEGORIES)}, got {category!r}"
        )
    if isinstance(interval, bool) or not isinstance(interval, int) or interval <= 0:
        raise InvalidItem(
            "wrong_type", f"'report_interval_s' must be a positive integer, got {interval!r}"
        )
    return MeterProfile(meter_id, model, category, interval)


def parse_line(line: str) -> MeterProfile | Reading | MeterEvent:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise InvalidItem("not_json", f"not JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise InvalidItem("not_object", "a line must be a JSON object")
    kind = record.get("type")
    if kind == "meter":
        return _profile(record)
    if kind == "reading":
        return parse_reading(_meter_id(record), record, None)
    if kind == "event":
        return parse_event(_meter_id(record), record, None)
    raise InvalidItem("wrong_type", f"'type' must be meter, reading or event, got {kind!r}")


def _lines(source: IO[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(source, start=1):
        if line.strip():
            yield number, line


def replay(
    source: IO[str], sink: IO[str], config: RulesConfig, log: IO[str] = sys.stderr
) -> ReplayStats:
    engine = SafetyEngine(config)
    stats = ReplayStats()
    for number, line in _lines(source):
        stats.lines += 1
        if stats.lines % PROGRESS_EVERY_LINES == 0:
            print(f"replay: {stats.lines} lines, {stats.decisions} decisions", file=log, flush=True)
        try:
            item = parse_line(line)
        except InvalidItem as exc:
            stats.rejected += 1
            print(f"replay: line {number} rejected: {exc}", file=log)
            continue
        if isinstance(item, MeterProfile):
            stats.meters += 1
            engine.set_profile(item)
            continue
        if isinstance(item, Reading):
            stats.readings += 1
            decisions = engine.on_reading(item)
        else:
            stats.events += 1
            decisions = engine.on_event(item)
        for decision in decisions:
            sink.write(json.dumps(decision.as_dict(), separators=(",", ":")) + "\n")
        stats.decisions += len(decisions)
    return stats
