"""The compiled core: a batch of readings and events, in order, through every rule.

Pure: numbers in (the batch's columns, the fleet's packed state, the parameters), decision
rows out. ``safety.engine`` translates at the edge.

Data-quality guards run before any rule sees a reading: a reading older than or as old as
the newest one accepted (out of order, duplicate) is ignored; a register that went
backwards (meter replaced, counter reset) or a gap longer than ``max_gap_intervals`` report
intervals restarts the meter's episodes; a reading far ahead of the fleet is held back
until a few agree (its clock really moved).
"""

from __future__ import annotations

import numpy as np

from safety.codes import (
    EV_VALVE_OPENED,
    FLOW_WHILE_CLOSED,
    ITEM_READING,
    LOW_BATTERY,
    NO_FLOW_GAP,
    OFFLINE,
    OVER_FLOW,
    PRESSURE_LOW,
    PROLONGED_USE,
    REOPEN_FLOW,
    SUDDEN_INCREASE,
    VALVE_NONE,
)
from safety.jit import compiled
from safety.layout import CANDIDATE, DECISION, MAX_BANDS, NO_TS, Record
from safety.params import CLOCK_SHIFT_READINGS, MAX_AHEAD_MS, MAX_GAP_INTERVALS, Tables
from safety.rules import (
    event_rules,
    flow_while_closed,
    low_battery,
    micro_flow,
    no_flow_gap,
    offline,
    over_flow,
    pressure,
    prolonged_use,
    reopen_watch,
    sudden_increase,
)
from safety.rules.episodes import fire, register_flow
from safety.watermark import TOP_N, VALUE, observe

MOST_PER_ITEM = 16  # decisions one reading or event can cause, besides offline ones


@compiled
def reset_continuity(s: Record) -> None:
    """Forget every running episode start (after a gap or a register reset)."""
    s.over_ts = NO_TS
    s.micro_ts = NO_TS
    s.recent_n = 0
    s.flags &= ~CANDIDATE & 0xFF
    for k in range(MAX_BANDS):
        s.band_ts[k] = NO_TS
    s.plow_ts = NO_TS
    s.phigh_ts = NO_TS
    s.closed_vol = np.nan


@compiled
def breaks_continuity(s: Record, ts: int, volume: float, p: np.ndarray) -> bool:
    if s.last_ts == NO_TS or np.isnan(s.last_vol) or volume < s.last_vol:
        return True
    return ts - s.last_ts > s.interval * 1000 * p[MAX_GAP_INTERVALS]


@compiled
def held_back(s: Record, ts: int, meta: np.ndarray, quorum: int, p: np.ndarray) -> bool:
    """A reading far ahead of the fleet is held back, unless the meter's last few readings
    agree (its clock really moved): one bad timestamp must not blind it."""
    watermark = meta[VALUE]
    if meta[TOP_N] < quorum or watermark == NO_TS:
        return False
    if ts <= watermark + p[MAX_AHEAD_MS]:
        s.streak_n = 0
        return False
    gap_ms = p[MAX_GAP_INTERVALS] * s.interval * 1000
    if s.last_ts != NO_TS and 0 < ts - s.last_ts <= gap_ms:
        s.streak_n = 0  # continuous with the meter's own accepted timeline
        return False
    if s.streak_n > 0 and not 0 < ts - s.streak_ts <= gap_ms:
        s.streak_n = 0
    s.streak_n += 1
    s.streak_ts = ts
    if s.streak_n < p[CLOCK_SHIFT_READINGS]:
        return True
    s.streak_n = 0
    return False


@compiled
def evaluate_reading(
    s: Record,
    ts: int,
    volume: float,
    flow: float,
    pressure_kpa: float,
    battery: float,
    valve: int,
    tables: Tables,
    out: np.ndarray,
    count: np.ndarray,
) -> None:
    p, actions = tables.p, tables.actions
    if s.last_ts != NO_TS and ts <= s.last_ts:
        return
    if s.gap_ts == NO_TS:
        s.gap_ts = ts  # the meter's first reading: no_flow_gap's period starts here
    prev_ts = s.last_ts
    prev_volume = s.last_vol
    has_prev = prev_ts != NO_TS and not np.isnan(prev_volume)
    if breaks_continuity(s, ts, volume, p):
        # A new baseline: no flow rule can judge this reading, the others still can.
        if has_prev:
            no_flow_gap.silent_gap(s, prev_ts, prev_volume, ts, volume, p)
        reset_continuity(s)
        s.last_ts = ts
        s.last_vol = volume
        flow_while_closed.evaluate(s, ts, volume, valve, p, actions[FLOW_WHILE_CLOSED], out, count)
        low_battery.evaluate(s, ts, battery, p, actions[LOW_BATTERY], out, count)
        if valve != VALVE_NONE:
            s.valve = valve
        return
    if np.isnan(flow):
        flow = register_flow(prev_volume, volume, prev_ts, ts)
    s.last_ts = ts
    s.last_vol = volume
    limit = tables.models[s.model, 0]
    step = tables.models[s.model, 1]
    over_flow.evaluate(s, ts, volume, flow, limit, p, actions[OVER_FLOW], out, count)
    micro_flow.evaluate(s, ts, volume, flow, p, tables.micro_actions[s.category], out, count)
    sudden_increase.evaluate(
        s, ts, volume, flow, prev_ts, prev_volume, step, p, actions[SUDDEN_INCREASE], out, count
    )
    prolonged_use.evaluate(
        s,
        ts,
        volume,
        flow,
        tables.bands[s.category],
        tables.band_counts[s.category],
        p,
        actions[PROLONGED_USE],
        out,
        count,
    )
    reopen_watch.evaluate(s, ts, volume, flow, valve, s.valve, p, actions[REOPEN_FLOW], out, count)
    no_flow_gap.evaluate(
        s, ts, volume, flow, prev_ts, prev_volume, p, actions[NO_FLOW_GAP], out, count
    )
    flow_while_closed.evaluate(s, ts, volume, valve, p, actions[FLOW_WHILE_CLOSED], out, count)
    low_battery.evaluate(s, ts, battery, p, actions[LOW_BATTERY], out, count)
    pressure.evaluate(s, ts, pressure_kpa, valve, p, actions[PRESSURE_LOW], out, count)
    if valve != VALVE_NONE:
        s.valve = valve


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
    """Every item in order; returns the decisions (``layout.DECISION`` rows)."""
    p, actions = tables.p, tables.actions
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
            if events[item] == EV_VALVE_OPENED:
                reopen_watch.reopened(s, ts)
            event_rules.evaluate(s, ts, events[item], actions, scratch, count)
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
            if fire(
                quiet,
                OFFLINE,
                watermark,
                actions[OFFLINE],
                quiet.last_seen,
                silent_s,
                watermark,
                0.0,
                scratch,
                count,
            ):
                decided[decided_n] = scratch[0]
                decided[decided_n].item = item
                decided[decided_n].slot = silent[k]
                decided_n += 1
    return decided[:decided_n]
