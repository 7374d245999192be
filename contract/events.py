"""A meter's discrete events (``detector_alarm``, ``tamper``, …): the names the contract
knows, and the value. Pure."""

from __future__ import annotations

from dataclasses import dataclass

EVENT_NAMES: frozenset[str] = frozenset(
    {
        "detector_alarm",
        "detector_clear",
        "seismic",
        "tamper",
        "tilt",
        "magnet",
        "cover_open",
        "button_press",
        "valve_opened",
        "valve_closed",
    }
)


@dataclass(frozen=True, slots=True)
class MeterEvent:
    """A discrete event reported by a meter at event time ``ts_ms``."""

    meter_id: str
    ts_ms: int
    event: str
