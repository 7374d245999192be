"""``flow_while_closed``: the register advances while the meter reports its valve closed
(a valve that does not seal, or a bypass)."""

from __future__ import annotations

from safety.config import RulesConfig
from safety.domain import Decision, MeterProfile, Reading
from safety.rules.episodes import end_episode, fire
from safety.state import MeterState

RULE_ID = "flow_while_closed"


def evaluate(
    state: MeterState, reading: Reading, profile: MeterProfile, config: RulesConfig
) -> Decision | None:
    if reading.valve != "closed":
        if reading.valve is not None:
            state.closed_since_volume_m3 = None
            end_episode(state, RULE_ID)
        return None
    if state.closed_since_volume_m3 is None:
        state.closed_since_volume_m3 = reading.volume_m3
        return None
    advance = reading.volume_m3 - state.closed_since_volume_m3
    if advance < config.flow_while_closed.min_advance_m3:
        return None
    detail = {
        "advance_m3": round(advance, 6),
        "min_advance_m3": config.flow_while_closed.min_advance_m3,
    }
    return fire(
        state, RULE_ID, reading.ts_ms, profile.meter_id, config.flow_while_closed.action, detail
    )
