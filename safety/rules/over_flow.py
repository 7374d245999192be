"""``over_flow``: flow above the meter model's limit for at least ``hold_s``, backed by
the register.

State: ``over_ts``/``over_vol``, where the current episode above the limit started (time,
register). The limit is the model's (``RulesConfig.models``, column ``OVER_FLOW_LIMIT``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contract.decisions import Action
from safety.jit import compiled
from safety.layout import NO_TS, Record, time_field, volume_field
from safety.models import OVER_FLOW_LIMIT
from safety.rule import Param, Rule, RuleUnit
from safety.rules.episodes import end_episode, fire, held, is_open, register_flow

OVER_FLOW = 0


@dataclass(frozen=True, slots=True)
class OverFlowConfig:
    hold_s: int = 60
    action: Action = "shutoff"


@compiled
def step(s: Record, r: Record, t: Any, out: np.ndarray, count: np.ndarray) -> None:
    limit = t.models[s.model, OVER_FLOW_LIMIT]
    if r.flow <= limit:
        s.over_ts = NO_TS
        end_episode(s, OVER_FLOW)
        return
    if s.over_ts == NO_TS:
        s.over_ts = r.ts
        s.over_vol = r.volume
        return
    if is_open(s, OVER_FLOW) or not held(s.over_ts, r.ts, t.p.over_hold_ms):
        return
    backed = register_flow(s.over_vol, r.volume, s.over_ts, r.ts)
    if backed < limit * t.p.backing_ratio:
        return
    held_s = (r.ts - s.over_ts) / 1000
    action = t.actions[s.category, OVER_FLOW]
    fire(s, OVER_FLOW, r.ts, action, (r.flow, backed, limit, held_s), out, count)


@compiled
def on_new_baseline(s: Record, r: Record, t: Any) -> None:
    s.over_ts = NO_TS


def _detail(x: Sequence[float], config: OverFlowConfig, _: str) -> dict[str, Any]:
    return {
        "flow_m3h": x[0],
        "register_flow_m3h": round(x[1], 4),
        "limit_m3h": x[2],
        "held_s": x[3],
    }


SECTION = "over_flow"
UNIT = RuleUnit(
    name="over_flow",
    rules=(Rule("over_flow", OVER_FLOW, SECTION, lambda c: c.action, 4, _detail),),
    sections={SECTION: OverFlowConfig},
    params=(Param("over_hold_ms", SECTION, lambda c: c.hold_s * 1000),),
    state=(time_field("over_ts"), volume_field("over_vol")),
    step=step,
    on_new_baseline=on_new_baseline,
)
