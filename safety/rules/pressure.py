"""``pressure_low`` (while the valve is open) and ``pressure_high``: line pressure outside
its band for at least ``hold_s``."""

from __future__ import annotations

import numpy as np

from safety.codes import PRESSURE_HIGH, PRESSURE_LOW, VALVE_CLOSED, VALVE_NONE
from safety.jit import compiled
from safety.layout import NO_TS, Record
from safety.params import PRESSURE_HIGH_KPA, PRESSURE_HOLD_MS, PRESSURE_LOW_KPA
from safety.rules.episodes import end_episode, fire, held


@compiled
def evaluate(
    s: Record,
    ts: int,
    pressure: float,
    valve: int,
    p: np.ndarray,
    action: int,
    out: np.ndarray,
    count: np.ndarray,
) -> None:
    if np.isnan(pressure):
        return
    valve_now = valve if valve != VALVE_NONE else s.valve
    if pressure < p[PRESSURE_LOW_KPA] and valve_now != VALVE_CLOSED:
        if s.plow_ts == NO_TS:
            s.plow_ts = ts
        if held(s.plow_ts, ts, p[PRESSURE_HOLD_MS]):
            fire(s, PRESSURE_LOW, ts, action, pressure, 0.0, 0.0, 0.0, out, count)
    else:
        s.plow_ts = NO_TS
        end_episode(s, PRESSURE_LOW)
    if pressure > p[PRESSURE_HIGH_KPA]:
        if s.phigh_ts == NO_TS:
            s.phigh_ts = ts
        if held(s.phigh_ts, ts, p[PRESSURE_HOLD_MS]):
            fire(s, PRESSURE_HIGH, ts, action, pressure, 0.0, 0.0, 0.0, out, count)
    else:
        s.phigh_ts = NO_TS
        end_episode(s, PRESSURE_HIGH)
