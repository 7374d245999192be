"""``no_flow_gap``: no window of at least an hour without flow in the last 30 days (gas
that never stops: a leak behind the meter, or an appliance never off).

A window counts when flow stayed below ``zero_below_m3h`` for ``gap_s``, or when the
register did not move across a silence of that length. ``gap_ts`` starts at the meter's
first reading: a new meter gets the whole period before it can fire.
"""

from __future__ import annotations

import numpy as np

from safety.codes import NO_FLOW_GAP
from safety.jit import compiled
from safety.layout import NO_TS, Record
from safety.params import GAP_MS, PERIOD_MS, ZERO_BELOW
from safety.rules.episodes import end_episode, fire


@compiled
def silent_gap(
    s: Record, prev_ts: int, prev_volume: float, ts: int, volume: float, p: np.ndarray
) -> None:
    """A silence of at least ``gap_s`` across which the register did not move."""
    if ts - prev_ts >= p[GAP_MS] and volume - prev_volume <= 0:
        s.gap_ts = ts


@compiled
def evaluate(
    s: Record,
    ts: int,
    volume: float,
    flow: float,
    prev_ts: int,
    prev_volume: float,
    p: np.ndarray,
    action: int,
    out: np.ndarray,
    count: np.ndarray,
) -> None:
    silent_gap(s, prev_ts, prev_volume, ts, volume, p)
    if flow < p[ZERO_BELOW]:
        if s.zero_ts == NO_TS:
            s.zero_ts = ts  # conservative: a gap must be seen whole
        if ts - s.zero_ts >= p[GAP_MS]:
            s.gap_ts = ts
    else:
        s.zero_ts = NO_TS
    if s.gap_ts == NO_TS:
        return
    if ts - s.gap_ts < p[PERIOD_MS]:
        end_episode(s, NO_FLOW_GAP)
        return
    days = (ts - s.gap_ts) / 86_400_000
    fire(s, NO_FLOW_GAP, ts, action, days, 0.0, 0.0, 0.0, out, count)
