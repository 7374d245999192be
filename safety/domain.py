"""Small frozen values shared by every package: readings, events, profiles, decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ValveState = Literal["open", "closed", "fault"]
VALVE_STATES: frozenset[str] = frozenset({"open", "closed", "fault"})

Category = Literal["residential", "commercial", "industrial"]
CATEGORIES: frozenset[str] = frozenset({"residential", "commercial", "industrial"})

Action = Literal["shutoff", "alarm"]

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

DEFAULT_MODEL = "G2.5"
DEFAULT_CATEGORY: Category = "residential"
DEFAULT_REPORT_INTERVAL_S = 60


@dataclass(frozen=True, slots=True)
class Reading:
    """One measurement of one meter at event time ``ts_ms`` (epoch milliseconds)."""

    meter_id: str
    ts_ms: int
    volume_m3: float
    flow_m3h: float | None = None
    pressure_kpa: float | None = None
    temperature_c: float | None = None
    battery_pct: float | None = None
    valve: ValveState | None = None


_SET_READING = tuple(getattr(Reading, name).__set__ for name in Reading.__slots__)


def new_reading(
    meter_id: str,
    ts_ms: int,
    volume_m3: float,
    flow_m3h: float | None,
    pressure_kpa: float | None,
    temperature_c: float | None,
    battery_pct: float | None,
    valve: ValveState | None,
) -> Reading:
    """``Reading(...)`` with every field given, at half the cost: a frozen dataclass's
    ``__init__`` sets each field through ``object.__setattr__``; this sets the slots
    directly (the ingest decoder builds one per reading: 1.2 µs -> 0.56 µs measured)."""
    reading = object.__new__(Reading)
    s_meter, s_ts, s_volume, s_flow, s_pressure, s_temperature, s_battery, s_valve = _SET_READING
    s_meter(reading, meter_id)
    s_ts(reading, ts_ms)
    s_volume(reading, volume_m3)
    s_flow(reading, flow_m3h)
    s_pressure(reading, pressure_kpa)
    s_temperature(reading, temperature_c)
    s_battery(reading, battery_pct)
    s_valve(reading, valve)
    return reading


@dataclass(frozen=True, slots=True)
class MeterEvent:
    """A discrete event reported by a meter (``detector_alarm``, ``tamper``, ...)."""

    meter_id: str
    ts_ms: int
    event: str


@dataclass(frozen=True, slots=True)
class MeterProfile:
    """What the rules need to know about a meter: its model, category and report interval."""

    meter_id: str
    model: str = DEFAULT_MODEL
    category: Category = DEFAULT_CATEGORY
    report_interval_s: int = DEFAULT_REPORT_INTERVAL_S


@dataclass(frozen=True, slots=True)
class Decision:
    """A rule fired for a meter at event time ``ts_ms``: raise an alarm, or shut the valve."""

    ts_ms: int
    meter_id: str
    rule: str
    action: Action
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The replay-contract form: ``{"ts", "meter", "rule", "action", "detail"}``."""
        return {
            "ts": self.ts_ms,
            "meter": self.meter_id,
            "rule": self.rule,
            "action": self.action,
            "detail": dict(self.detail),
        }
