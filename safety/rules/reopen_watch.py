"""``reopen_flow``: after a closed valve opens again (the customer pressed the button on
an armed meter), watch the first ``watch_s``: a flow at or above ``max_flow_m3h``, backed
by the register, means an appliance was left open: close again and raise an alarm.

A reopening is seen from the meter's ``valve_opened`` event (register baseline: the
reading before it) or, if that is lost, from its telemetry going from ``closed`` to
``open`` (baseline: that reading; a closed valve does not move the register).

State: ``reopen_ts``/``reopen_vol``, when the valve reopened and the register then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contract.decisions import Action
from safety.codes import EV_VALVE_OPENED, VALVE_CLOSED, VALVE_OPEN
from safety.jit import compiled
from safety.layout import NO_TS, Record, time_field, volume_field
from safety.rule import Param, Rule, RuleUnit
from safety.rules.episodes import end_episode, fire, register_flow

REOPEN_FLOW = 13


@dataclass(frozen=True, slots=True)
class ReopenWatchConfig:
    """After a closed valve reopens: a flow of at least ``max_flow_m3h`` within
    ``watch_s`` (an appliance left open) closes it again."""

    watch_s: int = 120
    max_flow_m3h: float = 0.15
    action: Action = "shutoff"


@compiled
def reopened(s: Record, ts: int) -> None:
    s.reopen_ts = ts
    s.reopen_vol = s.last_vol
    end_episode(s, REOPEN_FLOW)


@compiled
def on_event(s: Record, ts: int, event: int, t: Any, out: np.ndarray, count: np.ndarray) -> None:
    if event == EV_VALVE_OPENED:
        reopened(s, ts)


@compiled
def step(s: Record, r: Record, t: Any, out: np.ndarray, count: np.ndarray) -> None:
    if r.valve == VALVE_OPEN and r.prev_valve == VALVE_CLOSED and s.reopen_ts == NO_TS:
        reopened(s, r.ts)
    since = s.reopen_ts
    if since == NO_TS:
        return
    if r.ts - since > t.p.reopen_watch_ms:
        s.reopen_ts = NO_TS  # the watch is over
        return
    max_flow = t.p.reopen_max_flow
    if r.flow < max_flow:
        return
    backed = 0.0
    if not np.isnan(s.reopen_vol) and r.ts > since:
        backed = register_flow(s.reopen_vol, r.volume, since, r.ts)
    if backed < max_flow * t.p.backing_ratio:
        return
    s.reopen_ts = NO_TS
    after_s = (r.ts - since) / 1000
    action = t.actions[s.category, REOPEN_FLOW]
    fire(s, REOPEN_FLOW, r.ts, action, (r.flow, backed, max_flow, after_s), out, count)


def _detail(x: Sequence[float], config: ReopenWatchConfig, _: str) -> dict[str, Any]:
    return {
        "flow_m3h": x[0],
        "register_flow_m3h": round(x[1], 4),
        "max_flow_m3h": config.max_flow_m3h,
        "seconds_after_reopening": x[3],
    }


SECTION = "reopen_watch"
UNIT = RuleUnit(
    name="reopen_watch",
    rules=(Rule("reopen_flow", REOPEN_FLOW, SECTION, lambda c: c.action, 4, _detail),),
    sections={SECTION: ReopenWatchConfig},
    params=(
        Param("reopen_watch_ms", SECTION, lambda c: c.watch_s * 1000),
        Param("reopen_max_flow", SECTION, lambda c: c.max_flow_m3h),
    ),
    state=(time_field("reopen_ts"), volume_field("reopen_vol")),
    step=step,
    on_event=on_event,
)
