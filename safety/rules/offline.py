"""``offline``: no message from a meter for ``intervals`` report intervals, measured
against the fleet watermark (event time), never the wall clock.

A meter's deadline runs from its newest message (flag ``SCHEDULED``); when the watermark
passes it the meter is silent: one alarm, and no new deadline until it is heard again.
``meta[NEXT_DEADLINE]`` is a lower bound of every running deadline, so the fleet is only
scanned when one may have passed. Silent meters fire in deadline order (ties: the meter
seen first), at the watermark's time.
"""

from __future__ import annotations

import numpy as np

from safety.codes import OFFLINE
from safety.jit import compiled
from safety.layout import NO_TS, SCHEDULED, Record
from safety.params import OFFLINE_INTERVALS
from safety.rules.episodes import end_episode
from safety.watermark import NEXT_DEADLINE, VALUE

NEVER = np.iinfo(np.int64).max


@compiled
def limit_ms(interval_s: int, p: np.ndarray) -> int:
    return int(interval_s * p[OFFLINE_INTERVALS] * 1000)


@compiled
def seen(s: Record, meta: np.ndarray, p: np.ndarray) -> None:
    """A message from the meter: its silence ends and a deadline runs."""
    if not s.flags & SCHEDULED and s.last_seen != NO_TS:
        s.flags |= SCHEDULED
        meta[NEXT_DEADLINE] = min(meta[NEXT_DEADLINE], s.last_seen + limit_ms(s.interval, p))
    end_episode(s, OFFLINE)


@compiled
def may_be_due(meta: np.ndarray) -> bool:
    """The watermark passed the lower bound of the deadlines: a scan is needed."""
    return meta[VALUE] != NO_TS and meta[VALUE] >= meta[NEXT_DEADLINE]


@compiled
def due(states: np.ndarray, count: int, meta: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Slots of the meters whose deadline the watermark passed, in deadline order; their
    deadlines stop. Updates the lower bound. Call when ``may_be_due``."""
    watermark = meta[VALUE]
    silent = []
    deadlines = []
    next_deadline = NEVER
    for slot in range(count):
        s = states[slot]
        if not s.flags & SCHEDULED:
            continue
        deadline = s.last_seen + limit_ms(s.interval, p)
        if deadline <= watermark:
            s.flags &= ~SCHEDULED & 0xFF
            silent.append(slot)
            deadlines.append(deadline)
        else:
            next_deadline = min(next_deadline, deadline)
    meta[NEXT_DEADLINE] = next_deadline
    slots = np.array(silent, dtype=np.int64)
    order = np.argsort(np.array(deadlines, dtype=np.int64), kind="mergesort")
    return slots[order]
