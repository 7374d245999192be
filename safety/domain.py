"""Small frozen values shared by every package: events, profiles, decisions, and (at home
in ``contract.readings``, with their field table) readings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from contract.readings import VALVE_STATES as VALVE_STATES
from contract.readings import Reading as Reading
from contract.readings import ValveState as ValveState
from contract.readings import new_reading as new_reading

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
