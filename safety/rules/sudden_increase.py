"""``sudden_increase``: flow rises by at least the model's step within the window.

A rise is a candidate until the next reading confirms it: the flow is still at least
base + step and the register advanced accordingly since the candidate (the previous
reading). A single spiking sample therefore never shuts a valve; the price is one report
interval of delay. The rise is measured from the lowest flow in the window.

State: ``recent_age``/``recent_flow``/``recent_n``, the last ``RECENT`` rising flows, as
milliseconds before the newest reading (the window); ``sudden_base``, the base flow of a
rise waiting for confirmation (flag ``CANDIDATE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contract.decisions import Action
from safety.errors import ConfigError
from safety.jit import compiled
from safety.layout import CANDIDATE, Field, Record, volume_field
from safety.models import SUDDEN_STEP
from safety.rule import Param, Rule, RuleUnit
from safety.rules.episodes import end_episode, fire, register_flow

SUDDEN_INCREASE = 3
RECENT = 4  # rising flows kept for the window
MAX_WINDOW_S = 86_400  # the flows' ages are kept in int32 ms


@dataclass(frozen=True, slots=True)
class SuddenIncreaseConfig:
    """Flow rises by at least the model's step within ``window_s``; confirmed by the next
    reading and the register, so a single spiking sample never shuts a valve."""

    window_s: int = 60
    action: Action = "shutoff"

    def __post_init__(self) -> None:
        if not 0 < self.window_s <= MAX_WINDOW_S:
            raise ConfigError(
                f"sudden_increase.window_s: 1 to {MAX_WINDOW_S} s, got {self.window_s}"
            )


@compiled
def step(s: Record, r: Record, t: Any, out: np.ndarray, count: np.ndarray) -> None:
    rise = t.models[s.model, SUDDEN_STEP]
    fired = False
    if s.flags & CANDIDATE:
        s.flags &= ~CANDIDATE & 0xFF
        base = s.sudden_base
        backed = register_flow(r.prev_volume, r.volume, r.prev_ts, r.ts)
        if r.flow >= base + rise and backed >= (base + rise) * t.p.backing_ratio:
            action = t.actions[s.category, SUDDEN_INCREASE]
            numbers = (r.flow, base, rise, backed)
            fired = fire(s, SUDDEN_INCREASE, r.ts, action, numbers, out, count)
    base_flow = _window_minimum(s, r.ts - r.prev_ts, t.p.sudden_window_ms)
    has_base = not np.isnan(base_flow)
    if has_base and r.flow - base_flow >= rise and not fired:
        s.flags |= CANDIDATE
        s.sudden_base = base_flow
    elif has_base and r.flow - base_flow < rise / 2:
        end_episode(s, SUDDEN_INCREASE)
    _remember(s, r.flow)


@compiled
def on_new_baseline(s: Record, r: Record, t: Any) -> None:
    s.recent_n = 0
    s.flags &= ~CANDIDATE & 0xFF


@compiled
def _window_minimum(s: Record, elapsed: int, window_ms: float) -> float:
    """Age the remembered flows by ``elapsed``, forget those that left the window, and
    return the lowest (NaN when none is left)."""
    first = 0
    for k in range(s.recent_n):
        age = s.recent_age[k] + elapsed
        if age > window_ms:
            first = k + 1
        else:
            s.recent_age[k] = age
    kept = s.recent_n - first
    for k in range(kept):
        s.recent_age[k] = s.recent_age[k + first]
        s.recent_flow[k] = s.recent_flow[k + first]
    s.recent_n = kept
    return s.recent_flow[0] if kept > 0 else np.nan


@compiled
def _remember(s: Record, flow: float) -> None:
    """Keep the window as a queue of rising flows: an older flow at or above a newer one
    can never again be the window's lowest. When the queue is full, the second oldest
    goes (the lowest stays exact; later it may read a little high)."""
    kept = s.recent_n
    while kept > 0 and s.recent_flow[kept - 1] >= flow:
        kept -= 1
    if kept == RECENT:
        for k in range(1, RECENT - 1):
            s.recent_age[k] = s.recent_age[k + 1]
            s.recent_flow[k] = s.recent_flow[k + 1]
        kept -= 1
    s.recent_age[kept] = 0
    s.recent_flow[kept] = flow
    s.recent_n = kept + 1


def _detail(x: Sequence[float], config: SuddenIncreaseConfig, _: str) -> dict[str, Any]:
    return {
        "flow_m3h": x[0],
        "from_m3h": x[1],
        "step_m3h": x[2],
        "register_flow_m3h": round(x[3], 4),
    }


SECTION = "sudden_increase"
UNIT = RuleUnit(
    name="sudden_increase",
    rules=(Rule("sudden_increase", SUDDEN_INCREASE, SECTION, lambda c: c.action, 4, _detail),),
    sections={SECTION: SuddenIncreaseConfig},
    params=(Param("sudden_window_ms", SECTION, lambda c: c.window_s * 1000),),
    state=(
        volume_field("sudden_base"),
        Field("recent_flow", "<f8", 0.0, (RECENT,)),
        Field("recent_age", "<i4", 0, (RECENT,)),
        Field("recent_n", "u1"),
    ),
    step=step,
    on_new_baseline=on_new_baseline,
)
