"""A meter's firmware thresholds (parameter download, issue 22): the limits at which a
meter that does the fast safety checks itself acts on its own (closes its valve, raises
its own alarm). gasguard keeps the configured ones (per device profile, overridden per
meter), sends them in the meter's protocol and records what the meter confirmed it holds.
Pure.

Units on every wire and in the API: m³/h for flows, minutes for prolonged use, kPa for
pressures. A threshold that is None is not configured: the meter keeps its own."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any


class ThresholdError(ValueError):
    """A threshold value that cannot be a meter's; the message names the field."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"{name}: {why}")
        self.field = name


@dataclass(frozen=True, slots=True)
class Thresholds:
    micro_flow_m3h: float | None = None  # a continuous flow at or below this is micro-flow
    micro_flow_min: int | None = None  # ... for this long
    prolonged_use_min: int | None = None  # a steady draw longer than this
    over_flow_m3h: float | None = None  # more than this is a rupture
    pressure_low_kpa: float | None = None
    pressure_high_kpa: float | None = None

    def as_dict(self) -> dict[str, float | int]:
        """The configured thresholds only, by name."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}

    def canonical(self) -> str:
        """The compact JSON of ``as_dict`` with sorted keys: what a signature covers."""
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))

    def over(self, override: Thresholds) -> Thresholds:
        """These thresholds with each one that ``override`` sets replaced by its."""
        return replace(self, **override.as_dict())  # type: ignore[arg-type]

    @property
    def empty(self) -> bool:
        return not self.as_dict()


NAMES: tuple[str, ...] = tuple(f.name for f in fields(Thresholds))
WHOLE = frozenset({"micro_flow_min", "prolonged_use_min"})  # whole minutes
LIMITS: dict[str, tuple[float, float]] = {  # what any gas meter's firmware can hold
    "micro_flow_m3h": (0.001, 1.0),
    "micro_flow_min": (1, 7 * 24 * 60),
    "prolonged_use_min": (1, 7 * 24 * 60),
    "over_flow_m3h": (0.1, 10_000.0),
    "pressure_low_kpa": (0.1, 1_000.0),
    "pressure_high_kpa": (0.1, 1_000.0),
}


def parse_thresholds(values: Mapping[str, Any]) -> Thresholds:
    """Thresholds from a mapping (settings, an API body, a meter's answer): each key one of
    ``NAMES``, each value a number in its ``LIMITS`` (whole minutes for durations), or
    None; ``ThresholdError`` names the first field that is wrong."""
    checked: dict[str, float | int | None] = {}
    for name, value in values.items():
        if name not in NAMES:
            raise ThresholdError(name, f"not a threshold; known: {', '.join(NAMES)}")
        checked[name] = None if value is None else _checked(name, value)
    thresholds = Thresholds(**checked)  # type: ignore[arg-type]
    low, high = thresholds.pressure_low_kpa, thresholds.pressure_high_kpa
    if low is not None and high is not None and low >= high:
        raise ThresholdError("pressure_low_kpa", "must be below pressure_high_kpa")
    return thresholds


def _checked(name: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ThresholdError(name, f"must be a number, got {value!r}")
    if name in WHOLE and value != int(value):
        raise ThresholdError(name, f"must be whole minutes, got {value!r}")
    low, high = LIMITS[name]
    if not low <= value <= high:
        raise ThresholdError(name, f"must be between {low:g} and {high:g}, got {value!r}")
    return int(value) if name in WHOLE else float(value)


def differences(configured: Thresholds, held: Thresholds | None) -> tuple[str, ...]:
    """The configured thresholds the meter does not hold (all of them when it confirmed
    none); a threshold the meter holds but gasguard does not configure is no difference."""
    wanted = configured.as_dict()
    have = {} if held is None else held.as_dict()
    return tuple(name for name, value in wanted.items() if have.get(name) != value)
