"""``micro_flow``: a small flow that has not stopped for ``hold_s`` and is below the
ceiling, backed by the register. Its action is per category (a restaurant's pilot flame
is not a leak).

State: ``micro_ts``/``micro_vol``, where the current run of flow above the floor started.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from contract.decisions import Action
from safety.jit import compiled
from safety.layout import NO_TS, Record, time_field, volume_field
from safety.rule import Param, Rule, RuleUnit
from safety.rules.episodes import end_episode, fire, held, is_open, register_flow

MICRO_FLOW = 1


@dataclass(frozen=True, slots=True)
class MicroFlowConfig:
    floor_m3h: float = 0.005
    ceiling_m3h: float = 0.03
    hold_s: int = 4 * 3600
    action: dict[str, Action] = field(
        default_factory=lambda: {
            "residential": "shutoff",
            "commercial": "alarm",
            "industrial": "shutoff",
        }
    )


@compiled
def step(s: Record, r: Record, t: Any, out: np.ndarray, count: np.ndarray) -> None:
    p = t.p
    if r.flow < p.micro_floor:
        s.micro_ts = NO_TS
        end_episode(s, MICRO_FLOW)
        return
    if s.micro_ts == NO_TS:
        s.micro_ts = r.ts
        s.micro_vol = r.volume
        return
    if is_open(s, MICRO_FLOW) or r.flow >= p.micro_ceiling:
        return
    if not held(s.micro_ts, r.ts, p.micro_hold_ms):
        return
    backed = register_flow(s.micro_vol, r.volume, s.micro_ts, r.ts)
    if backed < p.micro_floor * p.backing_ratio:
        return
    held_s = (r.ts - s.micro_ts) / 1000
    action = t.actions[s.category, MICRO_FLOW]
    fire(s, MICRO_FLOW, r.ts, action, (r.flow, backed, held_s), out, count)


@compiled
def on_new_baseline(s: Record, r: Record, t: Any) -> None:
    s.micro_ts = NO_TS


def _detail(x: Sequence[float], config: MicroFlowConfig, _: str) -> dict[str, Any]:
    return {"flow_m3h": x[0], "register_flow_m3h": round(x[1], 5), "held_s": x[2]}


SECTION = "micro_flow"
UNIT = RuleUnit(
    name="micro_flow",
    rules=(Rule("micro_flow", MICRO_FLOW, SECTION, lambda c: c.action, 3, _detail),),
    sections={SECTION: MicroFlowConfig},
    params=(
        Param("micro_floor", SECTION, lambda c: c.floor_m3h),
        Param("micro_ceiling", SECTION, lambda c: c.ceiling_m3h),
        Param("micro_hold_ms", SECTION, lambda c: c.hold_s * 1000),
    ),
    state=(time_field("micro_ts"), volume_field("micro_vol")),
    step=step,
    on_new_baseline=on_new_baseline,
)
