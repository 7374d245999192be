"""``pressure_low`` (while the valve is open) and ``pressure_high``: line pressure outside
its band for at least ``hold_s``.

State: ``plow_ts``/``phigh_ts``, when the pressure went below / above its band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contract.decisions import Action
from safety.codes import VALVE_CLOSED, VALVE_NONE
from safety.jit import compiled
from safety.layout import NO_TS, Record, time_field
from safety.rule import Param, Rule, RuleUnit
from safety.rules.episodes import end_episode, fire, held

PRESSURE_LOW = 6
PRESSURE_HIGH = 7


@dataclass(frozen=True, slots=True)
class PressureConfig:
    low_kpa: float = 0.8
    high_kpa: float = 3.5
    hold_s: int = 60
    action: Action = "shutoff"


@compiled
def step(s: Record, r: Record, t: Any, out: np.ndarray, count: np.ndarray) -> None:
    pressure = r.pressure
    if np.isnan(pressure):
        return
    p = t.p
    valve_now = r.valve if r.valve != VALVE_NONE else r.prev_valve
    if pressure < p.pressure_low_kpa and valve_now != VALVE_CLOSED:
        if s.plow_ts == NO_TS:
            s.plow_ts = r.ts
        if held(s.plow_ts, r.ts, p.pressure_hold_ms):
            action = t.actions[s.category, PRESSURE_LOW]
            fire(s, PRESSURE_LOW, r.ts, action, (pressure,), out, count)
    else:
        s.plow_ts = NO_TS
        end_episode(s, PRESSURE_LOW)
    if pressure > p.pressure_high_kpa:
        if s.phigh_ts == NO_TS:
            s.phigh_ts = r.ts
        if held(s.phigh_ts, r.ts, p.pressure_hold_ms):
            action = t.actions[s.category, PRESSURE_HIGH]
            fire(s, PRESSURE_HIGH, r.ts, action, (pressure,), out, count)
    else:
        s.phigh_ts = NO_TS
        end_episode(s, PRESSURE_HIGH)


@compiled
def on_new_baseline(s: Record, r: Record, t: Any) -> None:
    s.plow_ts = NO_TS
    s.phigh_ts = NO_TS


def _low(x: Sequence[float], config: PressureConfig, _: str) -> dict[str, Any]:
    return {"pressure_kpa": x[0], "below_kpa": config.low_kpa}


def _high(x: Sequence[float], config: PressureConfig, _: str) -> dict[str, Any]:
    return {"pressure_kpa": x[0], "above_kpa": config.high_kpa}


SECTION = "pressure"
UNIT = RuleUnit(
    name="pressure",
    rules=(
        Rule("pressure_low", PRESSURE_LOW, SECTION, lambda c: c.action, 1, _low),
        Rule("pressure_high", PRESSURE_HIGH, SECTION, lambda c: c.action, 1, _high),
    ),
    sections={SECTION: PressureConfig},
    params=(
        Param("pressure_low_kpa", SECTION, lambda c: c.low_kpa),
        Param("pressure_high_kpa", SECTION, lambda c: c.high_kpa),
        Param("pressure_hold_ms", SECTION, lambda c: c.hold_s * 1000),
    ),
    state=(time_field("plow_ts"), time_field("phigh_ts")),
    step=step,
    on_new_baseline=on_new_baseline,
)
