"""``gasguard replay``: the safety engine over a recorded JSONL file, no broker, no database.

Input lines (DESIGN.md, replay contract): ``meter`` declarations, ``reading`` and ``event``
records. Output: one JSON line per decision, in the order decided. A bad line is reported
on stderr with its number and reason, and the replay goes on.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any

import orjson

from contract.events import MeterEvent
from contract.json_text import parse_json
from contract.profiles import CATEGORIES, MeterProfile
from contract.protocol import METER_ID_RE, is_meter_id
from contract.readings import Reading
from ingest.decode import MAX_TS_MS, InvalidItem, is_one_of, parse_event, parse_reading
from safety.batch import BatchBuilder, Row, reading_row
from safety.codes import VALVE_CODE
from safety.config import RulesConfig
from safety.engine import SafetyEngine

CHUNK_LINES = 100_000  # lines per engine batch; a progress line on stderr after each
NAN = float("nan")
NUMBER = (float, int)


@dataclass(slots=True)
class ReplayStats:
    lines: int = 0
    meters: int = 0  # declarations
    readings: int = 0
    events: int = 0
    rejected: int = 0
    decisions: int = 0
    blank: int = 0  # empty lines (not counted in ``lines``)


def _meter_id(record: dict[str, Any]) -> str:
    meter_id = record.get("meter")
    if not is_meter_id(meter_id):
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
        record = parse_json(line)
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


def fast_reading(record: Any) -> tuple[str, Row] | None:
    """A plain, valid reading record as the engine's row, or None when the record needs
    ``parse_line`` (anything unusual: it decides and names the reason). Accepts only what
    ``parse_line`` accepts, with the same values (tests/gasguard/test_replay.py)."""
    if type(record) is not dict or record.get("type") != "reading" or "meter_id" in record:
        return None
    get: Callable[..., Any] = record.get
    meter, ts, volume = get("meter"), get("ts"), get("volume_m3")
    if type(meter) is not str or type(ts) is not int or not 0 <= ts <= MAX_TS_MS:
        return None
    flow, pressure, battery = (
        get("flow_m3h", NAN),
        get("pressure_kpa", NAN),
        get("battery_pct", NAN),
    )
    if (
        type(volume) not in NUMBER
        or type(flow) not in NUMBER
        or type(pressure) not in NUMBER
        or type(battery) not in NUMBER
        or type(get("temperature_c", 0.0)) not in NUMBER
        or not volume >= 0
        or flow < 0
        or battery < 0
        or battery > 100
        or METER_ID_RE.fullmatch(meter) is None
    ):
        return None
    valve = get("valve")
    valve_code = 0 if valve is None else VALVE_CODE.get(valve) if type(valve) is str else None
    if valve_code is None:
        return None
    return meter, reading_row(ts, volume, flow, pressure, battery, valve_code)


def replay(
    source: IO[str], sink: IO[str], config: RulesConfig, log: IO[str] = sys.stderr
) -> ReplayStats:
    """Read ``source`` in chunks; each chunk's readings go through the engine as one
    batch (the engine keeps their order), declarations and events in their place."""
    engine = SafetyEngine(config)
    stats = ReplayStats()
    first = 1
    while chunk := list(islice(source, CHUNK_LINES)):
        batch = BatchBuilder()
        meter_ids, rows = batch.meter_ids, batch.rows
        for number, line in enumerate(chunk, start=first):
            try:
                fast = fast_reading(orjson.loads(line))
            except orjson.JSONDecodeError:
                fast = None
            if fast is not None:
                meter_ids.append(fast[0])
                rows.append(fast[1])
                stats.readings += 1
            else:
                batch = _slow_line(engine, batch, number, line, sink, stats, log)
                meter_ids, rows = batch.meter_ids, batch.rows
        first += len(chunk)
        stats.lines = first - 1 - stats.blank
        _decide(engine, batch, sink, stats)
        print(
            f"replay: {stats.lines} lines, {stats.readings} readings, {stats.decisions} decisions",
            file=log,
            flush=True,
        )
    return stats


def _slow_line(
    engine: SafetyEngine,
    batch: BatchBuilder,
    number: int,
    line: str,
    sink: IO[str],
    stats: ReplayStats,
    log: IO[str],
) -> BatchBuilder:
    """A line the fast path left: blank (skipped), rejected with its reason, or a
    declaration (the batch so far is decided first, with the old profile; returns a new
    batch), event or reading."""
    if not line.strip():
        stats.blank += 1
        return batch
    try:
        item = parse_line(line)
    except InvalidItem as exc:
        stats.rejected += 1
        print(f"replay: line {number} rejected: {exc}", file=log)
        return batch
    if isinstance(item, MeterProfile):
        stats.meters += 1
        _decide(engine, batch, sink, stats)
        engine.set_profile(item)
        return BatchBuilder()
    if isinstance(item, Reading):
        stats.readings += 1
        batch.reading(item)
    else:
        stats.events += 1
        batch.event(item)
    return batch


def _decide(engine: SafetyEngine, batch: BatchBuilder, sink: IO[str], stats: ReplayStats) -> None:
    decisions = engine.process_batch(batch.build())
    for decision in decisions:
        sink.write(json.dumps(decision.as_dict(), separators=(",", ":")) + "\n")
    stats.decisions += len(decisions)
