"""``low_battery``: battery below the threshold; re-armed once it is back above
``rearm_at_pct`` (a new battery), so a level wobbling around 20 % alarms once."""

from __future__ import annotations

import numpy as np

from safety.codes import LOW_BATTERY
from safety.jit import compiled
from safety.layout import Record
from safety.params import BATTERY_BELOW, BATTERY_REARM
from safety.rules.episodes import end_episode, fire


@compiled
def evaluate(
    s: Record,
    ts: int,
    battery: float,
    p: np.ndarray,
    action: int,
    out: np.ndarray,
    count: np.ndarray,
) -> None:
    if np.isnan(battery):
        return
    if battery >= p[BATTERY_REARM]:
        end_episode(s, LOW_BATTERY)
        return
    if battery >= p[BATTERY_BELOW]:
        return
    fire(s, LOW_BATTERY, ts, action, battery, 0.0, 0.0, 0.0, out, count)
