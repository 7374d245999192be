"""Engine state to and from plain JSON-able data (pure; the adapter does the file I/O).

What is kept: every meter's rule state and the watermark's quorum of clocks. Offline
deadlines are rebuilt from the meters' last-seen times; profiles come from the registry.
"""

from __future__ import annotations

from typing import Any

from safety.engine import SafetyEngine
from safety.errors import SafetyError
from safety.rules.episodes import open_rule_names, open_rules_mask
from safety.state import MeterState

VERSION = 1
TUPLE_FIELDS = {"sudden_candidate", "reopened_since"}


class SnapshotError(SafetyError):
    """A snapshot cannot be read back."""


def dump(engine: SafetyEngine) -> dict[str, Any]:
    meters = {}
    for meter_id, state in engine.states().items():
        fields: dict[str, Any] = {}
        for name in MeterState.__slots__:
            value = getattr(state, name)
            if name == "open_rules":
                value = open_rule_names(value)
            fields[name] = value
        meters[meter_id] = fields
    return {"version": VERSION, "watermark": engine.watermark.clocks(), "meters": meters}


def load(engine: SafetyEngine, data: dict[str, Any]) -> int:
    """Restore ``data`` into ``engine``; returns how many meters were restored."""
    if data.get("version") != VERSION:
        raise SnapshotError(f"snapshot version {data.get('version')!r}, expected {VERSION}")
    try:
        for meter_id, fields in data["meters"].items():
            state = MeterState()
            for name, value in fields.items():
                if name not in MeterState.__slots__:
                    raise SnapshotError(f"unknown state field {name!r}")
                setattr(state, name, _restore(name, value))
            engine.restore_state(meter_id, state)
        for meter_id, ts in data["watermark"].items():
            engine.watermark.observe(meter_id, int(ts))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SnapshotError(f"snapshot is malformed: {exc}") from exc
    return len(data["meters"])


def _restore(name: str, value: Any) -> Any:
    if name == "open_rules":
        return open_rules_mask(value)
    if name == "recent_flows":
        return [(int(ts), float(flow)) for ts, flow in value]
    if name == "prolonged_since":
        return [None if band is None else (int(band[0]), float(band[1])) for band in value]
    if name in TUPLE_FIELDS and value is not None:
        return tuple(value)
    return value
