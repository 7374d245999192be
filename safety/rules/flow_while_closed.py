"""``flow_while_closed``: the register advances while the meter reports its valve closed
(a valve that does not seal, or a bypass). It needs no previous reading, so it also
judges a reading that starts a new baseline.

State: ``closed_vol``, the register when the valve was first reported closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contract.decisions import Action
from safety.codes import VALVE_CLOSED, VALVE_NONE
from safety.jit import compiled
from safety.layout import Record, volume_field
from safety.rule import Param, Rule, RuleUnit
from safety.rules.episodes import end_episode, fire

FLOW_WHILE_CLOSED = 8


@dataclass(frozen=True, slots=True)
class FlowWhileClosedConfig:
    min_advance_m3: float = 0.005
    action: Action = "alarm"


@compiled
def step(s: Record, r: Record, t: Any, out: np.ndarray, count: np.ndarray) -> None:
    if r.valve != VALVE_CLOSED:
        if r.valve != VALVE_NONE:
            s.closed_vol = np.nan
            end_episode(s, FLOW_WHILE_CLOSED)
        return
    if np.isnan(s.closed_vol):
        s.closed_vol = r.volume
        return
    advance = r.volume - s.closed_vol
    if advance < t.p.min_advance:
        return
    action = t.actions[s.category, FLOW_WHILE_CLOSED]
    fire(s, FLOW_WHILE_CLOSED, r.ts, action, (advance,), out, count)


@compiled
def on_new_baseline(s: Record, r: Record, t: Any) -> None:
    s.closed_vol = np.nan


def _detail(x: Sequence[float], config: FlowWhileClosedConfig, _: str) -> dict[str, Any]:
    return {"advance_m3": round(x[0], 6), "min_advance_m3": config.min_advance_m3}


SECTION = "flow_while_closed"
UNIT = RuleUnit(
    name="flow_while_closed",
    rules=(Rule("flow_while_closed", FLOW_WHILE_CLOSED, SECTION, lambda c: c.action, 1, _detail),),
    sections={SECTION: FlowWhileClosedConfig},
    params=(Param("min_advance", SECTION, lambda c: c.min_advance_m3),),
    state=(volume_field("closed_vol"),),
    step=step,
    on_new_baseline=on_new_baseline,
    judges_new_baseline=True,
)
