"""``reopen_flow``: after a closed valve opens again (the customer pressed the button on
an armed meter), watch the first ``watch_s``: a flow at or above ``max_flow_m3h``, backed
by the register, means an appliance was left open: close again and raise an alarm.

A reopening is seen from the meter's ``valve_opened`` event (register baseline: the
reading before it) or, if that is lost, from its telemetry going from ``closed`` to
``open`` (baseline: that reading; a closed valve does not move the register).
"""

from __future__ import annotations

import numpy as np

from safety.codes import REOPEN_FLOW, VALVE_CLOSED, VALVE_OPEN
from safety.jit import compiled
from safety.layout import NO_TS, Record
from safety.params import BACKING_RATIO, REOPEN_MAX_FLOW, REOPEN_WATCH_MS
from safety.rules.episodes import end_episode, fire, register_flow


@compiled
def reopened(s: Record, ts: int) -> None:
    s.reopen_ts = ts
    s.reopen_vol = s.last_vol
    end_episode(s, REOPEN_FLOW)


@compiled
def evaluate(
    s: Record,
    ts: int,
    volume: float,
    flow: float,
    valve: int,
    previous_valve: int,
    p: np.ndarray,
    action: int,
    out: np.ndarray,
    count: np.ndarray,
) -> None:
    if valve == VALVE_OPEN and previous_valve == VALVE_CLOSED and s.reopen_ts == NO_TS:
        reopened(s, ts)
    since = s.reopen_ts
    if since == NO_TS:
        return
    if ts - since > p[REOPEN_WATCH_MS]:
        s.reopen_ts = NO_TS  # the watch is over
        return
    max_flow = p[REOPEN_MAX_FLOW]
    if flow < max_flow:
        return
    backed = 0.0
    if not np.isnan(s.reopen_vol) and ts > since:
        backed = register_flow(s.reopen_vol, volume, since, ts)
    if backed < max_flow * p[BACKING_RATIO]:
        return
    s.reopen_ts = NO_TS
    after_s = (ts - since) / 1000
    fire(s, REOPEN_FLOW, ts, action, flow, backed, max_flow, after_s, out, count)
