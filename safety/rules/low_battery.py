"""``low_battery``: battery below the threshold; re-armed once it is back above
``rearm_at_pct`` (a new battery), so a level wobbling around 20 % alarms once. It needs no
previous reading, so it also judges a reading that starts a new baseline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contract.decisions import Action
from safety.jit import compiled
from safety.layout import Record
from safety.rule import Param, Rule, RuleUnit
from safety.rules.episodes import end_episode, fire

LOW_BATTERY = 11


@dataclass(frozen=True, slots=True)
class LowBatteryConfig:
    below_pct: float = 20.0
    rearm_at_pct: float = 25.0
    action: Action = "alarm"


@compiled
def step(s: Record, r: Record, t: Any, out: np.ndarray, count: np.ndarray) -> None:
    if np.isnan(r.battery):
        return
    if r.battery >= t.p.battery_rearm:
        end_episode(s, LOW_BATTERY)
        return
    if r.battery >= t.p.battery_below:
        return
    fire(s, LOW_BATTERY, r.ts, t.actions[s.category, LOW_BATTERY], (r.battery,), out, count)


def _detail(x: Sequence[float], config: LowBatteryConfig, _: str) -> dict[str, Any]:
    return {"battery_pct": x[0]}


SECTION = "low_battery"
UNIT = RuleUnit(
    name="low_battery",
    rules=(Rule("low_battery", LOW_BATTERY, SECTION, lambda c: c.action, 1, _detail),),
    sections={SECTION: LowBatteryConfig},
    params=(
        Param("battery_below", SECTION, lambda c: c.below_pct),
        Param("battery_rearm", SECTION, lambda c: c.rearm_at_pct),
    ),
    step=step,
    judges_new_baseline=True,
)
