"""``offline``: no message from a meter for ``intervals`` report intervals, measured
against the fleet watermark (event time), never the wall clock. A meter that sleeps and
uploads what it read at each wake-up (its profile's ``upload_every_s``: a day for an
NB-IoT meter reading hourly) is offline only after ``uploads`` of its wake-up intervals
too, whichever is longer: its newest reading is up to a day old before every upload.

Data already older than the limit when it comes (a day's backlog, a meter back after an
outage uploading its buffer) while the meter's offline alarm is raised neither ends that
silence nor sets a deadline: one would be due at once and raise another alarm for each
of its readings. The silence ends with data within the limit. (Old data from a meter not
yet alarmed does set its deadline, due at once: it is offline, once.)

A meter's deadline runs from its newest message (flag ``SCHEDULED``); when the watermark
passes it the meter is silent: one alarm, and no new deadline until it is heard again.
``meta[NEXT_DEADLINE]`` is a lower bound of every running deadline, so the fleet is only
scanned when one may have passed. Silent meters fire in deadline order (ties: the meter
seen first), at the watermark's time.

A rule of the fleet, not of one meter's inputs: the kernel calls ``seen`` after every
message and ``due`` when ``may_be_due`` (``safety/kernel.py``). No fields of its own: it
reads the kernel's ``last_seen`` and keeps the flag ``SCHEDULED``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contract.decisions import Action
from safety.jit import compiled
from safety.layout import NO_TS, SCHEDULED, Record
from safety.rule import Param, Rule, RuleUnit
from safety.rules.episodes import end_episode, is_open
from safety.watermark import NEXT_DEADLINE, VALUE

OFFLINE = 12
NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True, slots=True)
class OfflineConfig:
    """Silence for ``intervals`` report intervals, against the fleet's event-time watermark:
    the ``watermark_quorum``-th newest meter clock, so a few meters with clocks running
    ahead cannot move it (and raise mass offline alarms)."""

    intervals: float = 10.0
    uploads: float = 3.0  # a meter that sleeps: its wake-up intervals without a message
    watermark_quorum: int = 3
    action: Action = "alarm"


@compiled
def limit_ms(s: Record, p: Record) -> int:
    return int(max(s.interval * p.offline_intervals, s.upload * p.offline_uploads) * 1000)


@compiled
def seen(s: Record, meta: np.ndarray, p: Record) -> None:
    """A message from the meter: its silence ends and a deadline runs, unless the meter is
    alarmed offline and its newest data is still past the limit (a backlog coming in)."""
    if not s.flags & SCHEDULED and s.last_seen != NO_TS:
        deadline = s.last_seen + limit_ms(s, p)
        if is_open(s, OFFLINE) and meta[VALUE] != NO_TS and deadline <= meta[VALUE]:
            return
        s.flags |= SCHEDULED
        meta[NEXT_DEADLINE] = min(meta[NEXT_DEADLINE], deadline)
    end_episode(s, OFFLINE)


@compiled
def may_be_due(meta: np.ndarray) -> bool:
    """The watermark passed the lower bound of the deadlines: a scan is needed."""
    return meta[VALUE] != NO_TS and meta[VALUE] >= meta[NEXT_DEADLINE]


@compiled
def due(states: np.ndarray, count: int, meta: np.ndarray, p: Record) -> np.ndarray:
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
        deadline = s.last_seen + limit_ms(s, p)
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


def _detail(x: Sequence[float], config: OfflineConfig, _: str) -> dict[str, Any]:
    return {"last_seen_ms": int(x[0]), "silent_s": x[1], "watermark_ms": int(x[2])}


SECTION = "offline"
UNIT = RuleUnit(
    name="offline",
    rules=(Rule("offline", OFFLINE, SECTION, lambda c: c.action, 3, _detail),),
    sections={SECTION: OfflineConfig},
    params=(
        Param("offline_intervals", SECTION, lambda c: c.intervals),
        Param("offline_uploads", SECTION, lambda c: c.uploads),
    ),
)
