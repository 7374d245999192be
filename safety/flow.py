"""Flow as the rules see it: reported, or derived from the register when absent."""

from __future__ import annotations

from dataclasses import dataclass

from safety.domain import Reading

MS_PER_HOUR = 3_600_000


@dataclass(frozen=True, slots=True)
class FlowSample:
    """One in-order reading with the flow the rules use and the interval it closes."""

    ts_ms: int
    volume_m3: float
    flow_m3h: float
    derived: bool


def register_flow_m3h(volume_from: float, volume_to: float, ts_from: int, ts_to: int) -> float:
    """Average flow the register shows between two readings (m³/h); 0 for no time."""
    hours = (ts_to - ts_from) / MS_PER_HOUR
    if hours <= 0:
        return 0.0
    return max(volume_to - volume_from, 0.0) / hours


def flow_sample(reading: Reading, prev_ts_ms: int | None, prev_volume: float | None) -> FlowSample:
    if reading.flow_m3h is not None:
        return FlowSample(reading.ts_ms, reading.volume_m3, reading.flow_m3h, derived=False)
    if prev_ts_ms is None or prev_volume is None:
        return FlowSample(reading.ts_ms, reading.volume_m3, 0.0, derived=True)
    flow = register_flow_m3h(prev_volume, reading.volume_m3, prev_ts_ms, reading.ts_ms)
    return FlowSample(reading.ts_ms, reading.volume_m3, flow, derived=True)
