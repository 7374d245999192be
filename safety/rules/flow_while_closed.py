"""``flow_while_closed``: the register advances while the meter reports its valve closed
(a valve that does not seal, or a bypass)."""

from __future__ import annotations

import numpy as np

from safety.codes import FLOW_WHILE_CLOSED, VALVE_CLOSED, VALVE_NONE
from safety.jit import compiled
from safety.layout import Record
from safety.params import MIN_ADVANCE
from safety.rules.episodes import end_episode, fire


@compiled
def evaluate(
    s: Record,
    ts: int,
    volume: float,
    valve: int,
    p: np.ndarray,
    action: int,
    out: np.ndarray,
    count: np.ndarray,
) -> None:
    if valve != VALVE_CLOSED:
        if valve != VALVE_NONE:
            s.closed_vol = np.nan
            end_episode(s, FLOW_WHILE_CLOSED)
        return
    if np.isnan(s.closed_vol):
        s.closed_vol = volume
        return
    advance = volume - s.closed_vol
    if advance < p[MIN_ADVANCE]:
        return
    fire(s, FLOW_WHILE_CLOSED, ts, action, advance, 0.0, 0.0, 0.0, out, count)
