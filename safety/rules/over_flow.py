"""``over_flow``: flow above the meter model's limit for at least ``hold_s``, backed by
the register."""

from __future__ import annotations

import numpy as np

from safety.codes import OVER_FLOW
from safety.jit import compiled
from safety.layout import NO_TS, Record
from safety.params import BACKING_RATIO, OVER_HOLD_MS
from safety.rules.episodes import end_episode, fire, held, is_open, register_flow


@compiled
def evaluate(
    s: Record,
    ts: int,
    volume: float,
    flow: float,
    limit: float,
    p: np.ndarray,
    action: int,
    out: np.ndarray,
    count: np.ndarray,
) -> None:
    if flow <= limit:
        s.over_ts = NO_TS
        end_episode(s, OVER_FLOW)
        return
    if s.over_ts == NO_TS:
        s.over_ts = ts
        s.over_vol = volume
        return
    if is_open(s, OVER_FLOW) or not held(s.over_ts, ts, p[OVER_HOLD_MS]):
        return
    backed = register_flow(s.over_vol, volume, s.over_ts, ts)
    if backed < limit * p[BACKING_RATIO]:
        return
    held_s = (ts - s.over_ts) / 1000
    fire(s, OVER_FLOW, ts, action, flow, backed, limit, held_s, out, count)
