"""``sudden_increase``: flow rises by at least the model's step within the window.

A rise is a candidate until the next reading confirms it: the flow is still at least
base + step and the register advanced accordingly since the candidate (the previous
reading). A single spiking sample therefore never shuts a valve; the price is one report
interval of delay. The rise is measured from the lowest flow in the window.
"""

from __future__ import annotations

import numpy as np

from safety.codes import SUDDEN_INCREASE
from safety.jit import compiled
from safety.layout import CANDIDATE, RECENT, Record
from safety.params import BACKING_RATIO, SUDDEN_WINDOW_MS
from safety.rules.episodes import end_episode, fire, register_flow


@compiled
def evaluate(
    s: Record,
    ts: int,
    volume: float,
    flow: float,
    prev_ts: int,
    prev_volume: float,
    step: float,
    p: np.ndarray,
    action: int,
    out: np.ndarray,
    count: np.ndarray,
) -> None:
    fired = False
    if s.flags & CANDIDATE:
        s.flags &= ~CANDIDATE & 0xFF
        base = s.sudden_base
        backed = register_flow(prev_volume, volume, prev_ts, ts)
        if flow >= base + step and backed >= (base + step) * p[BACKING_RATIO]:
            fired = fire(s, SUDDEN_INCREASE, ts, action, flow, base, step, backed, out, count)
    base_flow = _window_minimum(s, ts - prev_ts, p[SUDDEN_WINDOW_MS])
    has_base = not np.isnan(base_flow)
    if has_base and flow - base_flow >= step and not fired:
        s.flags |= CANDIDATE
        s.sudden_base = base_flow
    elif has_base and flow - base_flow < step / 2:
        end_episode(s, SUDDEN_INCREASE)
    _remember(s, flow)


@compiled
def _window_minimum(s: Record, elapsed: int, window_ms: float) -> float:
    """Age the remembered flows by ``elapsed``, forget those that left the window, and
    return the lowest (NaN when none is left)."""
    first = 0
    for k in range(s.recent_n):
        age = s.recent_age[k] + elapsed
        if age > window_ms:
            first = k + 1
        else:
            s.recent_age[k] = age
    kept = s.recent_n - first
    for k in range(kept):
        s.recent_age[k] = s.recent_age[k + first]
        s.recent_flow[k] = s.recent_flow[k + first]
    s.recent_n = kept
    return s.recent_flow[0] if kept > 0 else np.nan


@compiled
def _remember(s: Record, flow: float) -> None:
    """Keep the window as a queue of rising flows: an older flow at or above a newer one
    can never again be the window's lowest. When the queue is full, the second oldest
    goes (the lowest stays exact; later it may read a little high)."""
    kept = s.recent_n
    while kept > 0 and s.recent_flow[kept - 1] >= flow:
        kept -= 1
    if kept == RECENT:
        for k in range(1, RECENT - 1):
            s.recent_age[k] = s.recent_age[k + 1]
            s.recent_flow[k] = s.recent_flow[k + 1]
        kept -= 1
    s.recent_age[kept] = 0
    s.recent_flow[kept] = flow
    s.recent_n = kept + 1
