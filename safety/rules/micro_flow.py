"""``micro_flow``: a small flow that has not stopped for ``hold_s`` and is below the
ceiling, backed by the register."""

from __future__ import annotations

import numpy as np

from safety.codes import MICRO_FLOW
from safety.jit import compiled
from safety.layout import NO_TS, Record
from safety.params import BACKING_RATIO, MICRO_CEILING, MICRO_FLOOR, MICRO_HOLD_MS
from safety.rules.episodes import end_episode, fire, held, is_open, register_flow


@compiled
def evaluate(
    s: Record,
    ts: int,
    volume: float,
    flow: float,
    p: np.ndarray,
    action: int,
    out: np.ndarray,
    count: np.ndarray,
) -> None:
    if flow < p[MICRO_FLOOR]:
        s.micro_ts = NO_TS
        end_episode(s, MICRO_FLOW)
        return
    if s.micro_ts == NO_TS:
        s.micro_ts = ts
        s.micro_vol = volume
        return
    if is_open(s, MICRO_FLOW) or flow >= p[MICRO_CEILING]:
        return
    if not held(s.micro_ts, ts, p[MICRO_HOLD_MS]):
        return
    backed = register_flow(s.micro_vol, volume, s.micro_ts, ts)
    if backed < p[MICRO_FLOOR] * p[BACKING_RATIO]:
        return
    held_s = (ts - s.micro_ts) / 1000
    fire(s, MICRO_FLOW, ts, action, flow, backed, held_s, 0.0, out, count)
