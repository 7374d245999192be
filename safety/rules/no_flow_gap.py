"""``no_flow_gap``: no window of at least an hour without flow in the last 30 days (gas
that never stops: a leak behind the meter, or an appliance never off).

A window counts when flow stayed below ``zero_below_m3h`` for ``gap_s``, or when the
register did not move across a silence of that length. ``gap_ts`` starts at the meter's
first reading: a new meter gets the whole period before it can fire.

State: ``gap_ts``, the end of the latest window without flow; ``zero_ts``, the start of
the current run of zero flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contract.decisions import Action
from safety.jit import compiled
from safety.layout import NO_TS, Record, time_field
from safety.rule import Param, Rule, RuleUnit
from safety.rules.episodes import end_episode, fire

NO_FLOW_GAP = 5


@dataclass(frozen=True, slots=True)
class NoFlowGapConfig:
    """No window of at least ``gap_s`` without flow (below ``zero_below_m3h``) in ``period_s``."""

    gap_s: int = 3600
    period_s: int = 30 * 86_400
    zero_below_m3h: float = 0.005
    action: Action = "alarm"


@compiled
def silent_gap(s: Record, r: Record, t: Any) -> None:
    """A silence of at least ``gap_s`` across which the register did not move."""
    if r.ts - r.prev_ts >= t.p.gap_ms and r.volume - r.prev_volume <= 0:
        s.gap_ts = r.ts


@compiled
def on_new_baseline(s: Record, r: Record, t: Any) -> None:
    if s.gap_ts == NO_TS:
        s.gap_ts = r.ts  # the meter's first reading: the period starts here
    if r.prev_ts != NO_TS and not np.isnan(r.prev_volume):
        silent_gap(s, r, t)


@compiled
def step(s: Record, r: Record, t: Any, out: np.ndarray, count: np.ndarray) -> None:
    silent_gap(s, r, t)
    if r.flow < t.p.zero_below:
        if s.zero_ts == NO_TS:
            s.zero_ts = r.ts  # conservative: a gap must be seen whole
        if r.ts - s.zero_ts >= t.p.gap_ms:
            s.gap_ts = r.ts
    else:
        s.zero_ts = NO_TS
    if s.gap_ts == NO_TS:
        return
    if r.ts - s.gap_ts < t.p.period_ms:
        end_episode(s, NO_FLOW_GAP)
        return
    days = (r.ts - s.gap_ts) / 86_400_000
    fire(s, NO_FLOW_GAP, r.ts, t.actions[s.category, NO_FLOW_GAP], (days,), out, count)


def _detail(x: Sequence[float], config: NoFlowGapConfig, _: str) -> dict[str, Any]:
    return {"days_without_gap": round(x[0], 1), "gap_s": config.gap_s}


SECTION = "no_flow_gap"
UNIT = RuleUnit(
    name="no_flow_gap",
    rules=(Rule("no_flow_gap", NO_FLOW_GAP, SECTION, lambda c: c.action, 1, _detail),),
    sections={SECTION: NoFlowGapConfig},
    params=(
        Param("gap_ms", SECTION, lambda c: c.gap_s * 1000),
        Param("period_ms", SECTION, lambda c: c.period_s * 1000),
        Param("zero_below", SECTION, lambda c: c.zero_below_m3h),
    ),
    state=(time_field("gap_ts"), time_field("zero_ts")),
    step=step,
    on_new_baseline=on_new_baseline,
)
