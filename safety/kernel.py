"""The compiled core: a batch of readings and events, in order, through every rule.

Pure: numbers in (the batch's columns, the fleet's packed state, the parameters), decision
rows out. ``safety.engine`` translates at the edge.

For each reading, after the data-quality guards (``safety.quality``): a reading that
continues the meter's baseline goes through every rule module's ``step``, in the order of
``safety/rules/__init__.py``; one that starts a new baseline (the first, after a register
reset or a long gap) makes every module forget its running episodes
(``on_new_baseline``) and goes only through the steps that need no previous reading. An
event goes through every ``on_event``. After any message the offline rule, a rule of the
fleet, hears the meter and may find others silent (``rules/offline.py``).

The tuples of steps are run with ``literal_unroll``: numba compiles one direct call per
step, as if each were written out here.
"""

from __future__ import annotations

import numpy as np
from numba import literal_unroll

from safety.codes import ITEM_READING, VALVE_NONE
from safety.jit import compiled
from safety.layout import NO_TS, Reading, Record
from safety.params import Tables
from safety.quality import breaks_continuity, held_back
from safety.rulebook import DECISION
from safety.rules import UNITS, offline
from safety.rules.episodes import fire, register_flow
from safety.watermark import VALUE, observe

MOST_PER_ITEM = 16  # decisions one reading or event can cause, besides offline ones

STEPS = tuple(unit.step for unit in UNITS if unit.step is not None)
NEW_BASELINE = tuple(unit.on_new_baseline for unit in UNITS if unit.on_new_baseline is not None)
NEW_BASELINE_STEPS = tuple(
    unit.step for unit in UNITS if unit.judges_new_baseline and unit.step is not None
)
EVENT_STEPS = tuple(unit.on_event for unit in UNITS if unit.on_event is not None)


@compiled
def evaluate_reading(
    s: Record,
    ts: int,
    volume: float,
    flow: float,
    pressure: float,
    battery: float,
    valve: int,
    tables: Tables,
    out: np.ndarray,
    count: np.ndarray,
) -> None:
    if s.last_ts != NO_TS and ts <= s.last_ts:
        return  # out of order or a duplicate
    prev_ts = s.last_ts
    prev_volume = s.last_vol
    if breaks_continuity(s, ts, volume, tables.p):
        r = Reading(ts, prev_ts, volume, prev_volume, flow, pressure, battery, valve, s.valve)
        for forget in literal_unroll(NEW_BASELINE):
            forget(s, r, tables)
        s.last_ts = ts
        s.last_vol = volume
        for step in literal_unroll(NEW_BASELINE_STEPS):
            step(s, r, tables, out, count)
    else:
        if np.isnan(flow):
            flow = register_flow(prev_volume, volume, prev_ts, ts)
        r = Reading(ts, prev_ts, volume, prev_volume, flow, pressure, battery, valve, s.valve)
        s.last_ts = ts
        s.last_vol = volume
        for step in literal_unroll(STEPS):
            step(s, r, tables, out, count)
    if valve != VALVE_NONE:
        s.valve = valve


@compiled
def evaluate_event(
    s: Record, ts: int, event: int, tables: Tables, out: np.ndarray, count: np.ndarray
) -> None:
    for step in literal_unroll(EVENT_STEPS):
        step(s, ts, event, tables, out, count)


@compiled
def _room(decided: np.ndarray, needed: int) -> np.ndarray:
    """``decided``, or a copy with room for ``needed`` rows (grown at least twofold)."""
    if needed <= decided.shape[0]:
        return decided
    grown = np.empty(max(needed, 2 * decided.shape[0]), dtype=DECISION)
    grown[: decided.shape[0]] = decided
    return grown


@compiled
def run(
    states: np.ndarray,
    meters: int,
    top_slot: np.ndarray,
    top_ts: np.ndarray,
    meta: np.ndarray,
    slots: np.ndarray,
    kinds: np.ndarray,
    times: np.ndarray,
    volumes: np.ndarray,
    flows: np.ndarray,
    pressures: np.ndarray,
    batteries: np.ndarray,
    valves: np.ndarray,
    events: np.ndarray,
    tables: Tables,
) -> np.ndarray:
    """Every item in order; returns the decisions (``rulebook.DECISION`` rows)."""
    p = tables.p
    quorum = top_slot.shape[0]
    decided = np.empty(64, dtype=DECISION)
    decided_n = 0
    scratch = np.empty(MOST_PER_ITEM, dtype=DECISION)
    count = np.zeros(1, dtype=np.int64)
    for item in range(slots.shape[0]):
        slot = slots[item]
        s = states[slot]
        ts = times[item]
        count[0] = 0
        seen_ts = ts
        if kinds[item] == ITEM_READING:
            if held_back(s, ts, meta, quorum, p):
                if meta[VALUE] != NO_TS and meta[VALUE] != 0:
                    seen_ts = meta[VALUE]  # alive, but its clock is not trusted
            else:
                evaluate_reading(
                    s,
                    ts,
                    volumes[item],
                    flows[item],
                    pressures[item],
                    batteries[item],
                    valves[item],
                    tables,
                    scratch,
                    count,
                )
        else:
            evaluate_event(s, ts, events[item], tables, scratch, count)
        # any message: the meter is alive, the watermark may move, silences end
        if s.last_seen == NO_TS or seen_ts > s.last_seen:
            s.last_seen = seen_ts
        offline.seen(s, meta, p)
        observe(top_slot, top_ts, meta, slot, seen_ts)
        decided = _room(decided, decided_n + count[0])
        for k in range(count[0]):
            decided[decided_n] = scratch[k]
            decided[decided_n].item = item
            decided[decided_n].slot = slot
            decided_n += 1
        if not offline.may_be_due(meta):
            continue
        silent = offline.due(states, meters, meta, p)
        decided = _room(decided, decided_n + silent.shape[0])
        watermark = meta[VALUE]
        for k in range(silent.shape[0]):
            quiet = states[silent[k]]
            count[0] = 0
            silent_s = (watermark - quiet.last_seen) / 1000
            action = tables.actions[quiet.category, offline.OFFLINE]
            numbers = (float(quiet.last_seen), silent_s, float(watermark))
            if fire(quiet, offline.OFFLINE, watermark, action, numbers, scratch, count):
                decided[decided_n] = scratch[0]
                decided[decided_n].item = item
                decided[decided_n].slot = silent[k]
                decided_n += 1
    return decided[:decided_n]
